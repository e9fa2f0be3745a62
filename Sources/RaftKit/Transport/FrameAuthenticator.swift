import Crypto

/// Authenticates Raft frames between the members of a group that share a secret: each frame's payload is
/// followed by HMAC-SHA256(secret, "silo-raft/1" ‖ sender id ‖ payload), and a receiver drops the connection
/// of a frame whose tag does not match (constant-time check).
///
/// A frame cannot be forged or altered without the secret, and its sender id cannot be changed. A recorded
/// frame can be replayed, which Raft tolerates as it tolerates a duplicating network (every message carries
/// its term and indexes). The payload is not encrypted.
public struct FrameAuthenticator: Sendable {
    /// Bytes the tag adds to each frame's payload.
    public static let tagBytes = 32
    static let context = Array("silo-raft/1".utf8)
    /// The shortest secret accepted.
    public static let secretBytesMin = 16

    /// `SymmetricKey` is not `Sendable`; one is made per use from these bytes (cheap).
    private let secret: [UInt8]

    /// - Precondition: `secret` has at least `secretBytesMin` bytes.
    public init(secret: [UInt8]) {
        precondition(secret.count >= Self.secretBytesMin, "a frame secret needs at least \(Self.secretBytesMin) bytes")
        self.secret = secret
    }

    /// `payload` followed by its tag.
    func seal(from sender: UInt64, _ payload: [UInt8]) -> [UInt8] {
        var sealed = payload
        sealed.append(contentsOf: tag(from: sender, payload[...]))
        return sealed
    }

    /// The payload without its tag, or nil when the tag is missing or wrong.
    func open(from sender: UInt64, _ sealed: [UInt8]) -> [UInt8]? {
        guard sealed.count >= Self.tagBytes else { return nil }
        let payload = sealed[..<(sealed.count - Self.tagBytes)]
        let received = sealed[(sealed.count - Self.tagBytes)...]
        var message = Self.context
        withUnsafeBytes(of: sender.bigEndian) { message.append(contentsOf: $0) }
        message.append(contentsOf: payload)
        guard HMAC<SHA256>.isValidAuthenticationCode(
            Array(received), authenticating: message, using: SymmetricKey(data: secret))
        else { return nil }
        return Array(payload)
    }

    private func tag(from sender: UInt64, _ payload: ArraySlice<UInt8>) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        hmac.update(data: Self.context)
        hmac.update(data: withUnsafeBytes(of: sender.bigEndian) { Array($0) })
        hmac.update(data: payload)
        return Array(hmac.finalize())
    }
}
