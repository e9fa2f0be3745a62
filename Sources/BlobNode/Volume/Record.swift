import ZlibCRC
import BlobContract

/// What a record in a volume file says about its chunk.
enum RecordKind: UInt8, Sendable {
    /// The chunk's bytes follow the header.
    case put = 1
    /// The chunk is deleted; no payload. It must outlive every older `put` of the same chunk on disk.
    case tombstone = 2
}

/// The fixed 44-byte header in front of every record in a volume file (little-endian):
///
/// ```
/// 0  magic "SLVR" (UInt32)      4  format version (UInt8)   5  kind (UInt8)   6  reserved, zero (2 bytes)
/// 8  chunk id (UInt128)         24 payload length (UInt32)  28 write time, ms since the Unix epoch (Int64)
/// 36 record CRC-32 over bytes 0..<36 then the payload      40 header CRC-32 over bytes 0..<40
/// ```
///
/// The header CRC makes the length trustworthy on its own, so a scan can skip a record whose payload is
/// corrupt and still find the next one; the record CRC covers the header and the payload together and is
/// checked when the record is written (pair assertion) and on every read.
struct RecordHeader: Equatable, Sendable {
    static let size = 44
    static let magic: UInt32 = 0x5256_4C53  // "SLVR" in little-endian byte order
    static let formatVersion: UInt8 = 1
    /// The bytes covered by the record CRC before the payload.
    static let recordCRCPrefixBytes = 36
    static let headerCRCPrefixBytes = 40

    var kind: RecordKind
    var chunkID: UInt128
    var payloadLength: UInt32
    var writeTimeMs: Int64
    /// CRC-32 of header bytes 0..<36 followed by the payload.
    var recordCRC: UInt32

    /// The whole record: header plus payload.
    var recordBytes: UInt64 { UInt64(Self.size) + UInt64(payloadLength) }

    /// A header for `payload`, with its record CRC computed.
    init(kind: RecordKind, chunkID: UInt128, writeTimeMs: Int64, payload: UnsafeRawBufferPointer) {
        precondition(kind == .put || payload.isEmpty, "tombstone with a payload of \(payload.count) bytes")
        precondition(payload.count <= Limits.chunkSizeBytesMax, "payload \(payload.count) > max")
        self.kind = kind
        self.chunkID = chunkID
        self.payloadLength = UInt32(payload.count)
        self.writeTimeMs = writeTimeMs
        self.recordCRC = 0
        self.recordCRC = self.computeRecordCRC(payload: payload)
    }

    init(kind: RecordKind, chunkID: UInt128, payloadLength: UInt32, writeTimeMs: Int64, recordCRC: UInt32) {
        self.kind = kind
        self.chunkID = chunkID
        self.payloadLength = payloadLength
        self.writeTimeMs = writeTimeMs
        self.recordCRC = recordCRC
    }

    /// The record CRC this header's fields and `payload` produce.
    func computeRecordCRC(payload: UnsafeRawBufferPointer) -> UInt32 {
        var bytes = self.encoded()
        let prefixCRC = bytes.withUnsafeMutableBytes { raw in
            crc32Update(0, UnsafeRawBufferPointer(rebasing: raw[0..<Self.recordCRCPrefixBytes]))
        }
        return crc32Update(prefixCRC, payload)
    }

    /// Whether `payload` is the payload this header was written with.
    func matches(payload: UnsafeRawBufferPointer) -> Bool {
        payload.count == Int(self.payloadLength) && self.computeRecordCRC(payload: payload) == self.recordCRC
    }

    /// The 44 header bytes, header CRC included.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.withUnsafeMutableBytes { raw in self.encode(into: raw) }
        return bytes
    }

    /// Writes the 44 header bytes into `raw` (at least 44 bytes long).
    func encode(into raw: UnsafeMutableRawBufferPointer) {
        precondition(raw.count >= Self.size, "header buffer \(raw.count) < \(Self.size)")
        raw.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        raw[4] = Self.formatVersion
        raw[5] = self.kind.rawValue
        raw[6] = 0
        raw[7] = 0
        raw.storeBytes(of: UInt64(truncatingIfNeeded: self.chunkID).littleEndian, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(
            of: UInt64(truncatingIfNeeded: self.chunkID >> 64).littleEndian, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: self.payloadLength.littleEndian, toByteOffset: 24, as: UInt32.self)
        raw.storeBytes(of: self.writeTimeMs.littleEndian, toByteOffset: 28, as: Int64.self)
        raw.storeBytes(of: self.recordCRC.littleEndian, toByteOffset: 36, as: UInt32.self)
        let headerCRC = crc32Update(0, UnsafeRawBufferPointer(rebasing: raw[0..<Self.headerCRCPrefixBytes]))
        raw.storeBytes(of: headerCRC.littleEndian, toByteOffset: 40, as: UInt32.self)
    }

    /// Why 44 bytes are not a valid header.
    enum DecodeError: Error, Equatable {
        case tooShort(Int)
        case badMagic(UInt32)
        case badHeaderCRC
        case unknownVersion(UInt8)
        case unknownKind(UInt8)
        case payloadTooLong(UInt32)
        case tombstoneWithPayload(UInt32)
    }

    /// Parses and checks a header (magic, header CRC, version, kind, length bound). The payload is not checked.
    static func decode(_ raw: UnsafeRawBufferPointer) -> Result<RecordHeader, DecodeError> {
        guard raw.count >= Self.size else { return .failure(.tooShort(raw.count)) }
        let magic = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        guard magic == Self.magic else { return .failure(.badMagic(magic)) }
        let storedCRC = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
        let headerCRC = crc32Update(0, UnsafeRawBufferPointer(rebasing: raw[0..<Self.headerCRCPrefixBytes]))
        guard storedCRC == headerCRC else { return .failure(.badHeaderCRC) }
        guard raw[4] == Self.formatVersion else { return .failure(.unknownVersion(raw[4])) }
        guard let kind = RecordKind(rawValue: raw[5]) else { return .failure(.unknownKind(raw[5])) }
        let low = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let length = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        guard length <= Limits.chunkSizeBytesMax else { return .failure(.payloadTooLong(length)) }
        guard kind == .put || length == 0 else { return .failure(.tombstoneWithPayload(length)) }
        let time = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 28, as: Int64.self))
        let recordCRC = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
        return .success(
            RecordHeader(
                kind: kind, chunkID: UInt128(high) << 64 | UInt128(low), payloadLength: length,
                writeTimeMs: time, recordCRC: recordCRC))
    }
}
