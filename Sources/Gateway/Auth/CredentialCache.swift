import MetaContract
import Synchronization

/// Access keys → users, read from the metadata service and kept for a short time, so that signature
/// checks do not cost a metadata read per request.
///
/// Promises: a user deleted (or a key changed) is refused at most `ttlMilliseconds` later on this
/// gateway. Unknown keys are not cached, so a user created a moment ago is found at once.
final class CredentialCache: Sendable {
    private let metadata: any MetadataService
    private let ttlMilliseconds: Int64
    private let entries = Mutex<[String: (user: UserRecord, fetchedTime: Int64)]>([:])
    /// Bound on cached keys; the cache is cleared when it is reached.
    private let entriesMax = 10_000

    init(metadata: any MetadataService, ttlMilliseconds: Int64) {
        self.metadata = metadata
        self.ttlMilliseconds = ttlMilliseconds
    }

    func user(accessKeyID: String, now: Int64) async throws(MetaError) -> UserRecord? {
        let cached = entries.withLock { $0[accessKeyID] }
        if let cached, now - cached.fetchedTime < ttlMilliseconds {
            return cached.user
        }
        let user = try await metadata.user(accessKeyID: accessKeyID)
        entries.withLock { entries in
            if entries.count >= entriesMax { entries.removeAll() }
            if let user { entries[accessKeyID] = (user, now) } else { entries[accessKeyID] = nil }
        }
        return user
    }

    func forget(accessKeyID: String) {
        _ = entries.withLock { $0.removeValue(forKey: accessKeyID) }
    }
}
