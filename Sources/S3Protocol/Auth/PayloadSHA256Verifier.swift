import Crypto
public import NIOCore

/// Checks a body against the hex SHA-256 the client signed (`x-amz-content-sha256: <hex>`). The Gateway
/// feeds every body buffer through `update` while it streams the body, and calls `finish()` before it
/// commits anything: a mismatch must abort the write.
public struct PayloadSHA256Verifier: Sendable {
    private var hasher = SendableDigest<SHA256>()
    /// The claimed digest, lower-case hex.
    public let claimedHex: String

    /// Starts a check against `claimedHex` (64 hex characters, as in `PayloadHash.sha256(hex:)`).
    public init(claimedHex: String) {
        self.claimedHex = claimedHex.lowercased()
    }

    /// Hashes the next body bytes.
    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { hasher.update($0) }
    }

    /// Hashes the next body bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { hasher.update($0) }
    }

    /// Throws `SigV4Error.payloadHashMismatch` unless the bytes seen hash to the claimed digest.
    public func finish() throws(SigV4Error) {
        let computed = Hex.encode(hasher.finalize())
        guard SigV4.constantTimeEquals(computed, claimedHex) else {
            throw .payloadHashMismatch(claimed: claimedHex, computed: computed)
        }
    }
}
