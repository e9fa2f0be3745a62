/// Why a request's checksum headers or its checksum failed. The Gateway maps `.mismatch` to `BadDigest`
/// and the others to `InvalidRequest` / `InvalidArgument`.
public enum ChecksumError: Error, Sendable, Hashable {
    /// An algorithm name that is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256.
    case unknownAlgorithm(String)
    /// More than one `x-amz-checksum-<algorithm>` header (AWS: "Expecting a single x-amz-checksum- header").
    case multipleChecksumHeaders([String])
    /// The header's value is not base64 of the algorithm's digest length.
    case invalidChecksumValue(headerName: String)
    /// `x-amz-sdk-checksum-algorithm` names one algorithm and the checksum header or trailer another.
    case algorithmMismatch(declared: ChecksumAlgorithm, found: ChecksumAlgorithm)
    /// `x-amz-checksum-type` is neither COMPOSITE nor FULL_OBJECT, or FULL_OBJECT for a non-CRC algorithm.
    case invalidChecksumType(String)
    /// `x-amz-trailer` names something other than one `x-amz-checksum-*` header.
    case invalidTrailer(String)
    /// The body's checksum differs from the one the client sent.
    case mismatch(algorithm: ChecksumAlgorithm, claimedBase64: String, computedBase64: String)
}

/// The checksum instructions of a request's headers: what to compute over the body and what to compare
/// it with. The Gateway parses this for PutObject, UploadPart and CreateMultipartUpload.
public struct ChecksumHeaders: Sendable, Hashable {
    /// The checksum sent in an `x-amz-checksum-<algorithm>` header (compare after the body).
    public var claimed: Checksum?
    /// The algorithm to compute: from the checksum header, the trailer, `x-amz-sdk-checksum-algorithm` or
    /// (CreateMultipartUpload) `x-amz-checksum-algorithm`.
    public var algorithm: ChecksumAlgorithm?
    /// The algorithm announced for an aws-chunked trailer (`x-amz-trailer: x-amz-checksum-crc32`): its value
    /// arrives in `AWSChunkedDecoder.finish()`.
    public var trailerAlgorithm: ChecksumAlgorithm?
    /// `x-amz-checksum-type` (CreateMultipartUpload).
    public var type: ChecksumType?

    /// Creates instructions directly.
    public init(claimed: Checksum?, algorithm: ChecksumAlgorithm?, trailerAlgorithm: ChecksumAlgorithm?, type: ChecksumType?) {
        self.claimed = claimed
        self.algorithm = algorithm
        self.trailerAlgorithm = trailerAlgorithm
        self.type = type
    }

    /// Reads the checksum headers of a request. Headers other than checksum ones are ignored.
    public static func parse(headers: [(name: String, value: String)]) throws(ChecksumError) -> ChecksumHeaders {
        var result = ChecksumHeaders(claimed: nil, algorithm: nil, trailerAlgorithm: nil, type: nil)
        var declared: ChecksumAlgorithm?
        var checksumHeaderNames: [String] = []
        for (name, value) in headers {
            let lowered = name.lowercased()
            let trimmed = value.trimmingSpaces()
            switch lowered {
            case "x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm":
                guard let algorithm = ChecksumAlgorithm(name: trimmed) else { throw .unknownAlgorithm(String(trimmed.prefix(32))) }
                declared = algorithm
            case "x-amz-checksum-type":
                guard let type = ChecksumType(headerValue: trimmed) else { throw .invalidChecksumType(String(trimmed.prefix(32))) }
                result.type = type
            case "x-amz-trailer":
                let names = trimmed.split(separator: ",").map { $0.trimmingSpaces() }
                guard names.count == 1, let algorithm = ChecksumAlgorithm(headerName: names[0]) else {
                    throw .invalidTrailer(String(trimmed.prefix(128)))
                }
                result.trailerAlgorithm = algorithm
            case "x-amz-checksum-mode":
                continue  // a GET/HEAD option, not a checksum
            default:
                guard lowered.hasPrefix("x-amz-checksum-") else { continue }
                guard let algorithm = ChecksumAlgorithm(headerName: lowered) else {
                    throw .unknownAlgorithm(String(lowered.dropFirst("x-amz-checksum-".count).prefix(32)))
                }
                checksumHeaderNames.append(lowered)
                guard let checksum = Checksum(algorithm: algorithm, base64: trimmed) else {
                    throw .invalidChecksumValue(headerName: lowered)
                }
                result.claimed = checksum
            }
        }
        guard checksumHeaderNames.count <= 1 else { throw .multipleChecksumHeaders(checksumHeaderNames) }
        let found = result.claimed?.algorithm ?? result.trailerAlgorithm
        if let declared, let found, declared != found { throw .algorithmMismatch(declared: declared, found: found) }
        result.algorithm = found ?? declared
        if result.type == .fullObject, let algorithm = result.algorithm, !algorithm.isCRC {
            throw .invalidChecksumType("FULL_OBJECT with \(algorithm.rawValue)")
        }
        return result
    }

    /// Throws `.mismatch` unless `computed` equals `claimed` (no-op when nothing was claimed).
    public func verify(_ computed: Checksum) throws(ChecksumError) {
        try Self.verify(claimed: claimed, computed: computed)
    }

    /// Throws `.mismatch` unless `computed` equals `claimed` (no-op when `claimed` is nil).
    public static func verify(claimed: Checksum?, computed: Checksum) throws(ChecksumError) {
        guard let claimed else { return }
        guard claimed.algorithm == computed.algorithm else {
            throw .algorithmMismatch(declared: claimed.algorithm, found: computed.algorithm)
        }
        guard claimed.digest == computed.digest else {
            throw .mismatch(algorithm: claimed.algorithm, claimedBase64: claimed.base64, computedBase64: computed.base64)
        }
    }
}
