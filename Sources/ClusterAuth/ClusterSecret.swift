import Crypto

/// The secret every process of one Silo cluster shares (metadata replicas, blob nodes, gateways, `silo admin`),
/// and the one challenge both connection protocols use with it (the metadata RPC and the chunk protocol).
///
/// The secret never crosses the wire: on connect the server sends a fresh random challenge
/// (`makeChallenge`), the client answers HMAC-SHA256(secret, challenge ‖ protocol name) (`answer`), and the
/// server checks it in constant time (`isValid`) and closes the connection on a mismatch. The protocol name
/// binds an answer to one protocol and version, so an answer for one cannot open the other.
///
/// Promises: a secret has at least `bytesMin` bytes (`init` refuses shorter ones), and `description` never
/// shows it. RaftKit, which stays independent of Silo, authenticates each Raft frame with `rawBytes`.
public struct ClusterSecret: Sendable, CustomStringConvertible {
    /// The shortest secret accepted, in bytes.
    public static let bytesMin = 16
    /// Bytes of a challenge.
    public static let challengeBytes = 32

    /// `SymmetricKey` is not `Sendable`; one is made per use from these bytes (cheap).
    private let bytes: [UInt8]

    /// A secret from raw bytes; throws for fewer than `bytesMin`.
    public init(bytes: [UInt8]) throws(ClusterSecretError) {
        guard bytes.count >= Self.bytesMin else { throw ClusterSecretError(byteCount: bytes.count) }
        self.bytes = bytes
    }

    /// A secret from text (its UTF-8 bytes), as read from `SILO_CLUSTER_SECRET` or `--cluster-secret-file`.
    public init(_ text: String) throws(ClusterSecretError) {
        try self.init(bytes: Array(text.utf8))
    }

    public var description: String { "ClusterSecret(redacted)" }

    /// The secret's bytes, for RaftKit's `FrameAuthenticator` only.
    public var rawBytes: [UInt8] { bytes }

    /// A fresh challenge: `challengeBytes` bytes from the system's cryptographic generator.
    public static func makeChallenge() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<challengeBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The client's answer to `challenge` for protocol `name` (`silo-meta/1`, `silo-blob/1`).
    public func answer(to challenge: [UInt8], protocol name: ChallengeProtocol) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: challenge + name.context, using: SymmetricKey(data: bytes)))
    }

    /// Whether `answer` answers `challenge` for protocol `name`; constant time in the answer's bytes.
    public func isValid(_ answer: [UInt8], to challenge: [UInt8], protocol name: ChallengeProtocol) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(answer, authenticating: challenge + name.context,
                                               using: SymmetricKey(data: bytes))
    }
}

/// The name a connection protocol binds its challenge answers to, with its version.
public struct ChallengeProtocol: Sendable, Equatable {
    let context: [UInt8]
    public init(_ name: String) { context = Array(name.utf8) }
}

/// A secret too short to be one.
public struct ClusterSecretError: Error, Sendable, Equatable, CustomStringConvertible {
    public let byteCount: Int
    public var description: String {
        "the cluster secret has \(byteCount) bytes; at least \(ClusterSecret.bytesMin) are required"
    }
}
