import Crypto

/// The secret every blob node and every client of the chunk protocol shares. It never crosses the wire:
/// on connect the server sends a fresh random nonce, the client answers HMAC-SHA256(secret, nonce ||
/// "silo-blob/1"), and the server compares in constant time and closes the connection on a mismatch.
///
/// Promises: a secret is at least `Limits.clusterSecretBytesMin` bytes (`init` refuses shorter ones), and its
/// `description` never shows it.
public struct ClusterSecret: Sendable, CustomStringConvertible {
    /// The text appended to the nonce: binds the answer to this protocol and version.
    static let context = Array("silo-blob/1".utf8)
    /// The raw bytes (`SymmetricKey` is not `Sendable`; one is made per use, which is cheap).
    private let bytes: [UInt8]

    /// A secret from raw bytes. Throws `.invalidOptions` for fewer than `Limits.clusterSecretBytesMin` bytes.
    public init(bytes: [UInt8]) throws(BlobError) {
        guard bytes.count >= Limits.clusterSecretBytesMin else {
            throw .invalidOptions(
                "the cluster secret has \(bytes.count) bytes; at least \(Limits.clusterSecretBytesMin) are required")
        }
        self.bytes = bytes
    }

    /// A secret from text (its UTF-8 bytes), as `silo blob` reads it from the environment or a file.
    public init(_ text: String) throws(BlobError) {
        try self.init(bytes: Array(text.utf8))
    }

    public var description: String { "ClusterSecret(redacted)" }

    /// The client's answer to `nonce`.
    func authenticator(for nonce: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: nonce + Self.context, using: SymmetricKey(data: self.bytes)))
    }

    /// Whether `authenticator` answers `nonce`; constant time in the authenticator's bytes.
    func isValid(_ authenticator: [UInt8], for nonce: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(authenticator, authenticating: nonce + Self.context, using: SymmetricKey(data: self.bytes))
    }

    /// A fresh challenge: `Limits.wireNonceBytes` bytes from the system's cryptographic generator.
    static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<Limits.wireNonceBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
