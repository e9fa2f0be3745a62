import Crypto

/// A swift-crypto hash function state that can cross concurrency domains.
///
/// Why `@unchecked Sendable` is safe: swift-crypto's `SHA256` / `Insecure.SHA1` (BoringSSL backend) are
/// structs holding a copy-on-write `DigestContext` class; `update` calls `isKnownUniquelyReferenced` and
/// copies the context before mutating a shared one, and `finalize` works on a copy. So two copies never
/// mutate the same context, exactly like `Array`'s storage: a value moved or copied to another task shares
/// nothing mutable. swift-crypto only lacks the annotation on Linux.
struct SendableDigest<H: HashFunction>: @unchecked Sendable {
    var hasher: H

    init() { hasher = H() }

    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    func finalize() -> [UInt8] { Array(hasher.finalize()) }
}

/// A SigV4 signing key: the 32 bytes derived from the secret and the credential scope. A plain Sendable value
/// (unlike swift-crypto's `SymmetricKey` on Linux) so the Gateway can cache it across tasks.
public struct SigV4SigningKey: Sendable, Hashable {
    /// The key bytes.
    public let bytes: [UInt8]

    /// Wraps derived key bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// HMAC-SHA256 of `message` with this key.
    func authenticationCode(_ message: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: bytes)))
    }
}
