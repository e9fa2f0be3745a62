import Crypto
import Foundation
import MetaContract
import NIOCore
import S3Protocol

/// Every digest a request body must be checked against, computed in one pass as the bytes stream by.
///
/// - MD5 always (the ETag), checked against `Content-MD5` when sent (BadDigest).
/// - SHA-256 when the signature covers the payload hash (`x-amz-content-sha256: <hex>`):
///   XAmzContentSHA256Mismatch.
/// - The flexible checksum of `ChecksumHeaders` (a value header, a trailer, or just an algorithm):
///   BadDigest on mismatch; stored and returned on GET.
struct BodyDigests {
    private var md5 = Insecure.MD5()
    private var sha256: PayloadSHA256Verifier?
    private let expectedMD5: [UInt8]?
    private var checksum: ChecksumHasher?
    private let checksumHeaders: ChecksumHeaders

    /// The outcome of a verified body.
    struct Result {
        var md5Hex: String
        var md5: [UInt8]
        var checksum: StoredChecksum?
    }

    /// - Parameter defaultAlgorithm: the algorithm to compute when the request names none (a part of an
    ///   upload created with `x-amz-checksum-algorithm`).
    init(call: S3Call, defaultAlgorithm: ChecksumAlgorithm? = nil) throws {
        try self.init(body: call.signedBody, defaultAlgorithm: defaultAlgorithm)
    }

    init(body call: SignedBody, defaultAlgorithm: ChecksumAlgorithm? = nil) throws {
        if let contentMD5 = call.header("content-md5") {
            guard let decoded = Data(base64Encoded: contentMD5), decoded.count == 16 else {
                throw S3Error(.invalidDigest)
            }
            expectedMD5 = Array(decoded)
        } else {
            expectedMD5 = nil
        }
        if case .sha256(let hex) = call.verified.payloadHash {
            sha256 = PayloadSHA256Verifier(claimedHex: hex)
        }
        checksumHeaders = try ChecksumHeaders.parse(headers: call.headerList)
        if let trailer = checksumHeaders.trailerAlgorithm, !call.verified.payloadHash.hasTrailer {
            throw S3Error(.invalidRequest, "x-amz-trailer \(trailer.headerName) needs an aws-chunked trailer payload mode.")
        }
        let algorithm = checksumHeaders.algorithm ?? checksumHeaders.trailerAlgorithm ?? defaultAlgorithm
        checksum = algorithm.map { ChecksumHasher($0) }
    }

    /// Digests of bytes Silo copies itself (CopyObject, UploadPartCopy): nothing to compare against.
    static func forCopy(algorithm: ChecksumAlgorithm?) -> BodyDigests {
        BodyDigests(checksum: algorithm.map { ChecksumHasher($0) })
    }

    private init(checksum: ChecksumHasher?) {
        self.sha256 = nil
        self.expectedMD5 = nil
        self.checksum = checksum
        self.checksumHeaders = ChecksumHeaders(claimed: nil, algorithm: nil, trailerAlgorithm: nil, type: nil)
    }

    mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in
            md5.update(bufferPointer: bytes)
            checksum?.update(bytes)
        }
        sha256?.update(buffer)
    }

    /// Finishes every digest and compares it with what the client claimed, in headers or trailers.
    mutating func verify(trailers: [(name: String, value: String)]) throws -> Result {
        let md5Digest = Array(md5.finalize())
        if let expectedMD5, expectedMD5 != md5Digest {
            throw S3Error(.badDigest)
        }
        try sha256?.finish()
        var stored: StoredChecksum?
        if let checksum {
            let computed = checksum.finalize()
            try checksumHeaders.verify(computed)
            if let trailerAlgorithm = checksumHeaders.trailerAlgorithm {
                guard let value = trailers.first(where: { $0.name.lowercased() == trailerAlgorithm.headerName })?.value
                else {
                    throw S3Error(.invalidRequest, "The trailer \(trailerAlgorithm.headerName) was announced but not sent.")
                }
                guard let claimed = Checksum(algorithm: trailerAlgorithm, base64: value) else {
                    throw ChecksumError.invalidChecksumValue(headerName: trailerAlgorithm.headerName)
                }
                if claimed != computed {
                    throw ChecksumError.mismatch(algorithm: trailerAlgorithm, claimedBase64: value,
                                                 computedBase64: computed.base64)
                }
            }
            stored = StoredChecksum(algorithm: computed.algorithm.rawValue, value: computed.base64, type: "FULL_OBJECT")
        }
        return Result(md5Hex: Hex.encode(md5Digest), md5: md5Digest, checksum: stored)
    }
}
