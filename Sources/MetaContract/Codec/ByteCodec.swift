/// The byte-level primitives of MetaQuorum's binary formats (commands, results, stored records).
///
/// Integers are LEB128 varints (signed ones zig-zag encoded first), strings and byte strings are a varint
/// length followed by the bytes, `ChunkID` is 16 bytes little-endian, optionals and booleans are one byte.
/// Decoding never traps on bad input: every read checks the remaining length and throws `MetaCodecError`.

/// Why a byte string could not be decoded.
package enum MetaCodecError: Error, Equatable, Sendable {
    /// The input ended in the middle of a value.
    case truncated
    /// A version byte this build does not know.
    case unsupportedVersion(UInt8)
    /// An enum tag (command kind, error kind, …) this build does not know.
    case invalidTag(UInt8)
    /// A byte string that should have been UTF-8 text was not.
    case invalidUTF8
    /// A value out of its range (a varint over 64 bits, a count larger than the input, a flag byte not 0/1).
    case invalidValue(String)
    /// Bytes left over after the value was complete.
    case trailingBytes(Int)
}

/// Appends encoded values to a byte array.
package struct ByteWriter {
    package private(set) var bytes: [UInt8] = []

    package init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func writeByte(_ value: UInt8) {
        bytes.append(value)
    }

    package mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Zig-zag, so small negative numbers stay short.
    package mutating func writeInt(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    package mutating func writeInt(_ value: Int) {
        writeInt(Int64(value))
    }

    package mutating func writeBool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    package mutating func writeBytes(_ value: some Collection<UInt8>) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    package mutating func writeString(_ value: String) {
        writeBytes(value.utf8)
    }

    package mutating func writeChunkID(_ value: ChunkID) {
        var rest = value
        for _ in 0..<16 {
            bytes.append(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }

    package mutating func writeCount(_ count: Int) {
        writeVarint(UInt64(count))
    }
}

/// Reads encoded values from a byte array, throwing on anything malformed.
package struct ByteReader {
    private let bytes: [UInt8]
    package private(set) var offset: Int = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    package var remaining: Int { bytes.count - offset }

    package mutating func readByte() throws(MetaCodecError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readVarint() throws(MetaCodecError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 { throw .invalidValue("varint over 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .invalidValue("varint over 10 bytes") }
        }
    }

    package mutating func readInt64() throws(MetaCodecError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    package mutating func readInt() throws(MetaCodecError) -> Int {
        let value = try readInt64()
        guard let result = Int(exactly: value) else { throw .invalidValue("integer \(value) out of range") }
        return result
    }

    package mutating func readBool() throws(MetaCodecError) -> Bool {
        switch try readByte() {
        case 0: return false
        case 1: return true
        case let other: throw .invalidValue("boolean byte \(other)")
        }
    }

    /// A count of following elements, each at least `elementBytesMin` long: a count the rest of the
    /// input cannot hold is rejected before anything is allocated for it.
    package mutating func readCount(elementBytesMin: Int) throws(MetaCodecError) -> Int {
        let count = try readVarint()
        guard count <= UInt64(remaining / max(elementBytesMin, 1)) else {
            throw .invalidValue("count \(count) exceeds the \(remaining) bytes left")
        }
        return Int(count)
    }

    package mutating func readBytes() throws(MetaCodecError) -> [UInt8] {
        let count = try readCount(elementBytesMin: 1)
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    package mutating func readString() throws(MetaCodecError) -> String {
        let count = try readCount(elementBytesMin: 1)
        defer { offset += count }
        guard let text = String(validating: bytes[offset..<(offset + count)], as: UTF8.self) else {
            throw .invalidUTF8
        }
        return text
    }

    package mutating func readChunkID() throws(MetaCodecError) -> ChunkID {
        guard remaining >= 16 else { throw .truncated }
        var value: ChunkID = 0
        for position in (0..<16).reversed() {
            value = (value << 8) | ChunkID(bytes[offset + position])
        }
        offset += 16
        return value
    }

    /// Throws unless every byte was consumed.
    package func expectEnd() throws(MetaCodecError) {
        guard remaining == 0 else { throw .trailingBytes(remaining) }
    }
}
