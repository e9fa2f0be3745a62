import ZlibCRC

/// One record of the write-ahead log. The WAL does not look inside payloads: the layer above encodes Raft entries,
/// hard state and snapshot metadata into them.
public enum WALRecord: Sendable, Equatable {
    /// A log entry at `index`. Appending an index at or below the last one first drops every entry from that
    /// index on (a conflicting suffix), as etcd's WAL replay does.
    case entry(index: UInt64, payload: [UInt8])
    /// The Raft hard state (term, vote, commit). The newest one wins on recovery.
    case hardState([UInt8])
    /// Drops every entry with an index at or above `fromIndex`.
    case truncateSuffix(fromIndex: UInt64)
    /// Drops every entry with an index at or below `throughIndex` (a snapshot covers them); `payload` is the
    /// snapshot's metadata, returned on recovery. Segments that hold only such entries are deleted.
    case compact(throughIndex: UInt64, payload: [UInt8])
}

/// The on-disk framing of a record, little-endian:
/// `[payload length u32][payload crc32 u32][type u8][log index u64][header crc32 u32][payload]`.
/// The header CRC (zlib crc32 of the 17 bytes before it) lets recovery trust a length before reading the payload,
/// and lets it look cheaply for intact records after a failing one (see `WALWriter.isTornTail`).
enum WALRecordCodec {
    static let headerBytes = 21
    static let typeEntry: UInt8 = 1
    static let typeHardState: UInt8 = 2
    static let typeTruncateSuffix: UInt8 = 3
    static let typeCompact: UInt8 = 4

    static func encode(_ record: WALRecord, into bytes: inout [UInt8]) {
        switch record {
        case .entry(let index, let payload): encode(type: typeEntry, index: index, payload: payload, into: &bytes)
        case .hardState(let payload): encode(type: typeHardState, index: 0, payload: payload, into: &bytes)
        case .truncateSuffix(let index): encode(type: typeTruncateSuffix, index: index, payload: [], into: &bytes)
        case .compact(let index, let payload): encode(type: typeCompact, index: index, payload: payload, into: &bytes)
        }
    }

    static func encode(type: UInt8, index: UInt64, payload: [UInt8], into bytes: inout [UInt8]) {
        precondition(payload.count <= StorageLimits.recordPayloadBytesMax, "record of \(payload.count) bytes")
        let start = bytes.count
        appendLittleEndian(UInt32(payload.count), to: &bytes)
        appendLittleEndian(zlibCRC32(payload[...]), to: &bytes)
        bytes.append(type)
        appendLittleEndian(index, to: &bytes)
        appendLittleEndian(zlibCRC32(bytes[start..<(start + 17)]), to: &bytes)
        bytes.append(contentsOf: payload)
    }

    /// The outcome of reading one record at an offset.
    enum Decoded: Equatable {
        case record(WALRecord, nextOffset: Int)
        /// Fewer bytes remain than the header or the payload needs.
        case short
        /// A checksum does not match, or the length is impossible.
        case bad(reason: String)
        /// The checksums match but the type byte is unknown.
        case unknownType(UInt8)
    }

    /// Whether an intact header starts at `offset` (its CRC matches and its payload fits in `bytes`).
    static func headerLength(_ bytes: [UInt8], at offset: Int) -> Int? {
        guard bytes.count - offset >= headerBytes else { return nil }
        let stored = readLittleEndian(bytes, at: offset + 17, as: UInt32.self)
        guard stored == zlibCRC32(bytes[offset..<(offset + 17)]) else { return nil }
        let length = Int(readLittleEndian(bytes, at: offset, as: UInt32.self))
        guard length <= StorageLimits.recordPayloadBytesMax else { return nil }
        return length
    }

    static func decode(_ bytes: [UInt8], at offset: Int) -> Decoded {
        guard bytes.count - offset >= headerBytes else { return .short }
        let storedHeader = readLittleEndian(bytes, at: offset + 17, as: UInt32.self)
        let computedHeader = zlibCRC32(bytes[offset..<(offset + 17)])
        guard storedHeader == computedHeader else {
            return .bad(reason: "header crc \(storedHeader) != computed \(computedHeader)")
        }
        let length = Int(readLittleEndian(bytes, at: offset, as: UInt32.self))
        guard length <= StorageLimits.recordPayloadBytesMax else { return .bad(reason: "length \(length) too large") }
        guard bytes.count - offset - headerBytes >= length else { return .short }
        let payloadStart = offset + headerBytes
        let payload = bytes[payloadStart..<(payloadStart + length)]
        let storedPayload = readLittleEndian(bytes, at: offset + 4, as: UInt32.self)
        let computedPayload = zlibCRC32(payload)
        guard storedPayload == computedPayload else {
            return .bad(reason: "payload crc \(storedPayload) != computed \(computedPayload)")
        }
        let type = bytes[offset + 8]
        let index = readLittleEndian(bytes, at: offset + 9, as: UInt64.self)
        let next = payloadStart + length
        switch type {
        case typeEntry: return .record(.entry(index: index, payload: Array(payload)), nextOffset: next)
        case typeHardState: return .record(.hardState(Array(payload)), nextOffset: next)
        case typeTruncateSuffix: return .record(.truncateSuffix(fromIndex: index), nextOffset: next)
        case typeCompact: return .record(.compact(throughIndex: index, payload: Array(payload)), nextOffset: next)
        default: return .unknownType(type)
        }
    }
}

/// The crc32 of no bytes: the value to start a running `zlibCRC32(_:continuing:)` from.
let zlibCRC32Start: UInt32 = 0

/// crc32 (zlib) of a whole byte array, or of `bytes` after the bytes whose crc is `continuing` (a file read
/// in pieces): `ZlibCRC`'s wrapper, which feeds inputs above 4 GiB to zlib in pieces.
func zlibCRC32(_ bytes: ArraySlice<UInt8>, continuing: UInt32 = zlibCRC32Start) -> UInt32 {
    crc32Update(continuing, bytes)
}

func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

func readLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
    var value: T = 0
    for byteIndex in 0..<MemoryLayout<T>.size {
        value |= T(bytes[offset + byteIndex]) << (8 * byteIndex)
    }
    return value
}
