import MetaContract
import Synchronization

/// Bucket records this gateway read recently, so that an object write (PutObject, an upload's parts,
/// DeleteObject…) is authorized without a linearizable bucket read before it.
///
/// Promises nothing about freshness, and needs not: a write authorized on a cached record carries that
/// record's `BucketAccessStamp`, and the state machine refuses it (`.bucketAccessChanged`) unless the bucket
/// is, at the write's own linearization point, the one the decision read. `S3Gateway.withBucketAccess`
/// then forgets the entry, decides again on a linearizable read and re-proposes. A cached record that
/// denies is never trusted either (`S3Gateway.authorize` reads again): a stale record can only cost a
/// retry, never allow or refuse wrongly.
final class BucketAccessCache: Sendable {
    /// Bound on cached buckets; the cache is cleared when it is reached. A record holds at most one policy of
    /// `BucketPolicy.documentBytesMax` (20 KiB), so the cache stays under about 20 MiB.
    static let entriesMax = 1_000
    private let entries = Mutex<[String: (record: BucketRecord, stamp: BucketAccessStamp)]>([:])

    func bucket(_ name: String) -> (record: BucketRecord, stamp: BucketAccessStamp)? {
        entries.withLock { $0[name] }
    }

    func remember(_ bucket: BucketRecord) {
        let stamp = bucket.accessStamp
        entries.withLock { entries in
            if entries.count >= Self.entriesMax { entries.removeAll() }
            entries[bucket.name] = (bucket, stamp)
        }
    }

    func forget(_ name: String) {
        _ = entries.withLock { $0.removeValue(forKey: name) }
    }
}
