import HTTPTypes
import Hummingbird
import NIOCore
import S3Protocol

/// A request body together with what the signature says about it: the one input of the body-verification
/// path. Every handler that reads a body (S3 and admin alike) goes through `PayloadStream` (aws-chunked
/// framing and chunk signatures) and `BodyDigests` (signed SHA-256, `Content-MD5`, flexible checksums),
/// built from this value; a handler that reads no body calls `requireEmpty()` instead.
struct SignedBody: Sendable {
    /// The body as sent on the wire (still aws-chunked framed in streaming modes).
    let raw: RequestBody
    let verified: VerifiedRequest
    let headers: HTTPFields
    /// Every header as (lower-case name, value), in arrival order (for the S3Protocol parsers).
    let headerList: [(name: String, value: String)]

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// Reads a body that must be small (XML documents, admin JSON) through the verification path: every
    /// digest the request claims is checked before the bytes are returned. Throws `tooLarge` past
    /// `limitBytes` (without reading further), `IncompleteBody` when shorter than declared.
    func collectSmall(limitBytes: Int, tooLarge: @autoclosure () -> S3Error) async throws -> ByteBuffer {
        var digests = try BodyDigests(body: self)
        let stream = try PayloadStream(body: self)
        var collected = ByteBuffer()
        for try await var buffer in stream {
            if collected.readableBytes + buffer.readableBytes > limitBytes { throw tooLarge() }
            digests.update(buffer)
            collected.writeBuffer(&buffer)
        }
        if let declared = stream.declaredLength, Int64(collected.readableBytes) < declared {
            throw S3Error(.incompleteBody)
        }
        _ = try digests.verify(trailers: stream.trailers)
        return collected
    }

    /// For operations that take no body: a signed payload hash must be the hash of the empty body (AWS
    /// answers `XAmzContentSHA256Mismatch` otherwise), so a signature never vouches for bytes Silo ignores.
    func requireEmpty() throws {
        if case .sha256(let hex) = verified.payloadHash, hex.lowercased() != SigV4.emptySHA256 {
            throw S3Error(.contentSHA256Mismatch, details: [
                ("ClientComputedContentSHA256", hex), ("S3ComputedContentSHA256", SigV4.emptySHA256),
            ])
        }
    }
}
