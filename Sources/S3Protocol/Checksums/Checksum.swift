import Crypto
import Foundation
public import NIOCore

/// The checksum algorithms of S3's additional checksums (`x-amz-checksum-*`).
public enum ChecksumAlgorithm: String, Sendable, Hashable, CaseIterable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"

    /// Reads an algorithm name as sent in `x-amz-sdk-checksum-algorithm`, `x-amz-checksum-algorithm` or
    /// `<ChecksumAlgorithm>` (case-insensitive: `crc32c`, `CRC32C`). Nil for anything else.
    public init?(name: some StringProtocol) {
        guard let algorithm = ChecksumAlgorithm(rawValue: name.uppercased()) else { return nil }
        self = algorithm
    }

    /// Reads a header name such as `x-amz-checksum-crc64nvme` (case-insensitive). Nil for anything else,
    /// including the non-checksum headers `x-amz-checksum-algorithm`, `-mode` and `-type`.
    public init?(headerName: some StringProtocol) {
        let lowered = headerName.lowercased()
        guard lowered.hasPrefix("x-amz-checksum-") else { return nil }
        self.init(name: lowered.dropFirst("x-amz-checksum-".count))
    }

    /// `x-amz-checksum-crc32c` and so on.
    public var headerName: String { "x-amz-checksum-" + rawValue.lowercased() }

    /// The XML element of this checksum in responses (`ChecksumCRC32C`).
    public var xmlElementName: String { "Checksum" + rawValue }

    /// The digest length in bytes.
    public var digestByteCount: Int {
        switch self {
        case .crc32, .crc32c: return 4
        case .crc64nvme: return 8
        case .sha1: return 20
        case .sha256: return 32
        }
    }

    /// True for the CRCs, whose full-object value can be combined from the parts' values.
    public var isCRC: Bool { self == .crc32 || self == .crc32c || self == .crc64nvme }
}

/// A checksum value: an algorithm and its raw digest (big-endian for CRCs, as S3 encodes them).
public struct Checksum: Sendable, Hashable, CustomStringConvertible {
    /// The algorithm.
    public let algorithm: ChecksumAlgorithm
    /// The raw digest bytes (`algorithm.digestByteCount` of them).
    public let digest: [UInt8]

    /// Creates a checksum from raw digest bytes; the length must match the algorithm.
    public init(algorithm: ChecksumAlgorithm, digest: [UInt8]) {
        precondition(
            digest.count == algorithm.digestByteCount, "\(algorithm) digest of \(digest.count) bytes, want \(algorithm.digestByteCount)")
        self.algorithm = algorithm
        self.digest = digest
    }

    /// Reads the base64 form used in headers, trailers and XML. Nil if it is not base64 of the right length.
    /// Only the canonical encoding is accepted: base64 whose padding bits are not zero decodes to the same
    /// digest as another string, so it is refused rather than taken as the checksum it is not.
    public init?(algorithm: ChecksumAlgorithm, base64: some StringProtocol) {
        guard let data = Data(base64Encoded: String(base64)), data.count == algorithm.digestByteCount,
              data.base64EncodedString() == String(base64) else { return nil }
        self.init(algorithm: algorithm, digest: Array(data))
    }

    /// The base64 form (`sOO8/Q==`).
    public var base64: String { Data(digest).base64EncodedString() }

    /// `CRC32C:sOO8/Q==`, for logs.
    public var description: String { "\(algorithm.rawValue):\(base64)" }

    /// The CRC value as an integer (CRC algorithms only).
    var crcValue: UInt64 {
        precondition(algorithm.isCRC, "crcValue of \(algorithm)")
        return digest.reduce(0) { $0 << 8 | UInt64($1) }
    }

    init(algorithm: ChecksumAlgorithm, crcValue: UInt64) {
        precondition(algorithm.isCRC, "CRC value for \(algorithm)")
        let count = algorithm.digestByteCount
        self.init(algorithm: algorithm, digest: (0..<count).map { UInt8(truncatingIfNeeded: crcValue >> (8 * (count - 1 - $0))) })
    }
}

/// An incremental hasher for any `ChecksumAlgorithm`. Feed the body with `update`, then `finalize()`.
/// A value type: copying it forks the computation.
public struct ChecksumHasher: Sendable {
    private enum State: Sendable {
        case crc32(CRC32)
        case crc32c(CRC32C)
        case crc64nvme(CRC64NVME)
        case sha1(SendableDigest<Insecure.SHA1>)
        case sha256(SendableDigest<SHA256>)
    }

    private var state: State
    /// The algorithm being computed.
    public let algorithm: ChecksumAlgorithm

    /// Starts a hash of the empty input.
    public init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .crc32: state = .crc32(CRC32())
        case .crc32c: state = .crc32c(CRC32C())
        case .crc64nvme: state = .crc64nvme(CRC64NVME())
        case .sha1: state = .sha1(SendableDigest())
        case .sha256: state = .sha256(SendableDigest())
        }
    }

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .crc32(var crc):
            crc.update(bytes)
            state = .crc32(crc)
        case .crc32c(var crc):
            crc.update(bytes)
            state = .crc32c(crc)
        case .crc64nvme(var crc):
            crc.update(bytes)
            state = .crc64nvme(crc)
        case .sha1(var hasher):
            hasher.update(bytes)
            state = .sha1(hasher)
        case .sha256(var hasher):
            hasher.update(bytes)
            state = .sha256(hasher)
        }
    }

    /// Adds the readable bytes of `buffer`.
    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { update($0) }
    }

    /// Adds bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The checksum of everything added so far (the hasher can keep going).
    public func finalize() -> Checksum {
        switch state {
        case .crc32(let crc): return Checksum(algorithm: .crc32, crcValue: UInt64(crc.value))
        case .crc32c(let crc): return Checksum(algorithm: .crc32c, crcValue: UInt64(crc.finalValue))
        case .crc64nvme(let crc): return Checksum(algorithm: .crc64nvme, crcValue: crc.finalValue)
        case .sha1(let hasher): return Checksum(algorithm: .sha1, digest: hasher.finalize())
        case .sha256(let hasher): return Checksum(algorithm: .sha256, digest: hasher.finalize())
        }
    }

    /// The checksum of `bytes` in one call.
    public static func checksum(_ algorithm: ChecksumAlgorithm, of bytes: [UInt8]) -> Checksum {
        var hasher = ChecksumHasher(algorithm)
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// How a multipart object's checksum is made (`x-amz-checksum-type`).
public enum ChecksumType: String, Sendable, Hashable {
    /// The checksum of the concatenated part checksums, with a `-N` suffix (every algorithm).
    case composite = "COMPOSITE"
    /// The checksum of the whole object, combined from the parts (CRCs only).
    case fullObject = "FULL_OBJECT"

    /// Reads `COMPOSITE` / `FULL_OBJECT` (case-insensitive).
    public init?(headerValue: some StringProtocol) {
        self.init(rawValue: headerValue.uppercased())
    }
}

/// Checksums of multipart objects from their parts' checksums.
public enum MultipartChecksum {
    /// The composite checksum: the algorithm over the concatenated raw part digests, base64, then `-N`
    /// (`"abc...=-3"`), as S3 returns it for COMPOSITE uploads. Parts in part-number order; all parts must
    /// use the same algorithm.
    public static func composite(parts: [Checksum]) -> String {
        precondition(!parts.isEmpty, "composite checksum of zero parts")
        let algorithm = parts[0].algorithm
        var hasher = ChecksumHasher(algorithm)
        for part in parts {
            precondition(part.algorithm == algorithm, "mixed algorithms \(part.algorithm) and \(algorithm)")
            hasher.update(part.digest)
        }
        return "\(hasher.finalize().base64)-\(parts.count)"
    }

    /// The full-object CRC of the concatenation of the parts, from each part's CRC and byte count
    /// (crc32_combine). Nil for non-CRC algorithms. Parts in part-number order, same algorithm.
    public static func fullObject(parts: [(checksum: Checksum, byteCount: Int64)]) -> Checksum? {
        guard let first = parts.first, first.checksum.algorithm.isCRC else { return nil }
        let algorithm = first.checksum.algorithm
        let combiner: CRCCombiner
        switch algorithm {
        case .crc32: combiner = CRCCombiner(width: 32, polynomial: 0xEDB8_8320)
        case .crc32c: combiner = CRCCombiner(width: 32, polynomial: UInt64(CRC32C.polynomial))
        case .crc64nvme: combiner = CRCCombiner(width: 64, polynomial: CRC64NVME.polynomial)
        case .sha1, .sha256: return nil
        }
        var value = first.checksum.crcValue
        for part in parts.dropFirst() {
            precondition(part.checksum.algorithm == algorithm, "mixed algorithms \(part.checksum.algorithm) and \(algorithm)")
            precondition(part.byteCount >= 0, "negative part size \(part.byteCount)")
            value = combiner.combine(value, part.checksum.crcValue, lengthB: UInt64(part.byteCount))
        }
        return Checksum(algorithm: algorithm, crcValue: value)
    }
}
