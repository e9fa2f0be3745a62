import Crypto
import Foundation
import MetaQuorum
import NIOCore
import S3Protocol

/// Every digest a request body must be checked against, computed in one pass as the bytes stream by.
///
/// - MD5 always (the ETag), checked against `Content-MD5` when sent (BadDigest).
/// - SHA-256 when the signature covers the payload hash (`x-amz-content-sha256: <hex>`):
///   XAmzContentSHA256Mismatch.
/// - The flexible checksum named by `x-amz-checksum-<algorithm>` (value in the header) or by
///   `x-amz-trailer` (value in the trailer), or just requested by `x-amz-sdk-checksum-algorithm` /
///   `x-amz-checksum-algorithm`: BadDigest on mismatch; stored and returned on GET.
struct BodyDigests {
    private var md5 = Insecure.MD5()
    private var sha256: SHA256?
    private let expectedSHA256Hex: String?
    private let expectedMD5: [UInt8]?
    private var checksum: ChecksumHasher?
    private let expectedChecksum: String?
    private let checksumTrailerName: String?

    /// The outcome of a verified body.
    struct Result {
        var md5Hex: String
        var md5: [UInt8]
        var checksum: StoredChecksum?
    }

    init(call: S3Call, defaultAlgorithm: ChecksumAlgorithm? = nil) throws {
        if let contentMD5 = call.headers[.contentMD5] {
            guard let decoded = Data(base64Encoded: contentMD5), decoded.count == 16 else {
                throw S3Error(.invalidDigest)
            }
            expectedMD5 = Array(decoded)
        } else {
            expectedMD5 = nil
        }
        if let hex = call.verified.payloadSHA256Hex {
            sha256 = SHA256()
            expectedSHA256Hex = hex.lowercased()
        } else {
            sha256 = nil
            expectedSHA256Hex = nil
        }
        // The algorithm: a value header, a trailer, or an algorithm header (in this order of authority).
        var algorithm: ChecksumAlgorithm?
        var expected: String?
        var trailerName: String?
        for candidate in ChecksumAlgorithm.allCases {
            if let value = call.header(candidate.headerName) {
                if algorithm != nil {
                    throw S3Error(.invalidRequest, "Expecting a single x-amz-checksum- header.")
                }
                algorithm = candidate
                expected = value
            }
        }
        if algorithm == nil, let trailer = call.header("x-amz-trailer")?.lowercased() {
            guard let named = ChecksumAlgorithm.allCases.first(where: { $0.headerName == trailer }) else {
                throw S3Error(.invalidRequest, "The value specified in the x-amz-trailer header is not supported.")
            }
            algorithm = named
            trailerName = trailer
        }
        if algorithm == nil {
            let named = call.header("x-amz-sdk-checksum-algorithm") ?? call.header("x-amz-checksum-algorithm")
            if let named {
                guard let parsed = ChecksumAlgorithm(name: named) else {
                    throw S3Error(.invalidRequest, "Checksum algorithm \(named) is not supported.")
                }
                algorithm = parsed
            } else {
                algorithm = defaultAlgorithm
            }
        }
        checksum = algorithm.map { ChecksumHasher(algorithm: $0) }
        expectedChecksum = expected
        checksumTrailerName = trailerName
    }

    /// Digests of bytes Silo copies itself (CopyObject, UploadPartCopy): nothing to compare against.
    static func forCopy(algorithm: ChecksumAlgorithm?) -> BodyDigests {
        BodyDigests(checksum: algorithm.map { ChecksumHasher(algorithm: $0) })
    }

    private init(checksum: ChecksumHasher?) {
        self.sha256 = nil
        self.expectedSHA256Hex = nil
        self.expectedMD5 = nil
        self.checksum = checksum
        self.expectedChecksum = nil
        self.checksumTrailerName = nil
    }

    mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            md5.update(bufferPointer: bytes)
            sha256?.update(bufferPointer: bytes)
            checksum?.update(bytes)
        }
    }

    /// Finishes every digest and compares it with what the client claimed.
    mutating func verify(trailers: [(name: String, value: String)]) throws -> Result {
        let md5Digest = Array(md5.finalize())
        if let expectedMD5, expectedMD5 != md5Digest {
            throw S3Error(.badDigest)
        }
        if let sha256, let expectedSHA256Hex {
            let actual = sha256.finalize().map { String(format: "%02x", $0) }.joined()
            if actual != expectedSHA256Hex { throw S3Error(.contentSHA256Mismatch) }
        }
        var stored: StoredChecksum?
        if let checksum {
            let actual = checksum.finalizeBase64()
            var claimed = expectedChecksum
            if let checksumTrailerName {
                claimed = trailers.first { $0.name.lowercased() == checksumTrailerName }?.value
                if claimed == nil {
                    throw S3Error(.invalidRequest, "The trailer \(checksumTrailerName) was announced but not sent.")
                }
            }
            if let claimed, claimed != actual {
                throw S3Error(.badDigest,
                              "The \(checksum.algorithm.name) you specified did not match the calculated checksum.")
            }
            stored = StoredChecksum(algorithm: checksum.algorithm.name, value: actual, type: "FULL_OBJECT")
        }
        return Result(md5Hex: md5Digest.map { String(format: "%02x", $0) }.joined(), md5: md5Digest,
                      checksum: stored)
    }
}
