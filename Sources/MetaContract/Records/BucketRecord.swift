import Crypto

/// A bucket: its owner (a user id), its ACL, ownership controls, policy (schema 6) and public access block
/// (schema 10).
public struct BucketRecord: Sendable, Equatable {
    public var name: String
    public var owner: String
    /// Milliseconds since the Unix epoch.
    public var createdTime: Int64
    /// The bucket's grants; buckets from before ACLs have the owner-only ACL.
    public var acl: AccessControlList
    /// nil: no ownership controls set (S3 then behaves as `ObjectWriter`).
    public var ownership: ObjectOwnership?
    /// The bucket policy as the owner sent it (JSON text, validated by the Gateway), nil for none.
    public var policy: String?
    /// The bucket's public access block, nil for none (schema 10).
    public var publicAccessBlock: PublicAccessBlock?
    public init(name: String, owner: String, createdTime: Int64, acl: AccessControlList? = nil,
                ownership: ObjectOwnership? = nil, policy: String? = nil, publicAccessBlock: PublicAccessBlock? = nil) {
        self.name = name
        self.owner = owner
        self.createdTime = createdTime
        self.acl = acl ?? .ownerOnly(owner)
        self.ownership = ownership
        self.policy = policy
        self.publicAccessBlock = publicAccessBlock
    }
}

/// S3's four switches that keep a bucket from being made or used public (PutPublicAccessBlock). The
/// Gateway enforces them: public ACLs and policies refused on the way in (`blockPublicAcls`,
/// `blockPublicPolicy`), public grants ignored (`ignorePublicAcls`), a public policy's grants withheld from
/// anonymous callers (`restrictPublicBuckets`). Stored as a bit set (`rawValue`).
public struct PublicAccessBlock: Sendable, Equatable, Hashable {
    public var blockPublicAcls: Bool
    public var ignorePublicAcls: Bool
    public var blockPublicPolicy: Bool
    public var restrictPublicBuckets: Bool

    public init(blockPublicAcls: Bool, ignorePublicAcls: Bool, blockPublicPolicy: Bool, restrictPublicBuckets: Bool) {
        self.blockPublicAcls = blockPublicAcls
        self.ignorePublicAcls = ignorePublicAcls
        self.blockPublicPolicy = blockPublicPolicy
        self.restrictPublicBuckets = restrictPublicBuckets
    }

    /// Bits 0-3 in declaration order.
    public var rawValue: UInt8 {
        (blockPublicAcls ? 1 : 0) | (ignorePublicAcls ? 2 : 0) | (blockPublicPolicy ? 4 : 0) | (restrictPublicBuckets ? 8 : 0)
    }

    /// Nil for a value with bits above 3.
    public init?(rawValue: UInt8) {
        guard rawValue < 16 else { return nil }
        self.init(blockPublicAcls: rawValue & 1 != 0, ignorePublicAcls: rawValue & 2 != 0,
                  blockPublicPolicy: rawValue & 4 != 0, restrictPublicBuckets: rawValue & 8 != 0)
    }
}

/// A bucket's versioning state (S3's `Status` of `VersioningConfiguration`, plus the state before it was
/// ever set). Raw values are the stored and encoded form.
public enum BucketVersioning: UInt8, Sendable, Equatable {
    /// Versioning was never enabled: every object is the `null` version and a write replaces it.
    case unversioned = 0
    /// Every write makes a new version with a proposer-chosen id; deletes make delete markers.
    case enabled = 1
    /// Existing versions stay; new writes replace the `null` version, deletes make a `null` delete marker.
    case suspended = 2
}

/// A digest of everything in a bucket's record that an access decision reads (owner, creation, ACL,
/// ownership controls, policy): what a write carries when the Gateway authorized it against a bucket it
/// read earlier (perhaps from a cache). The state machine recomputes it from the bucket's row at apply
/// time and refuses the write with `.bucketAccessChanged` when they differ, so a decision made on a stale
/// record never takes effect: every write is authorized against the bucket as it is at its own
/// linearization point. The same on every replica and every process (SHA-256, not `Hasher`).
public struct BucketAccessStamp: Sendable, Hashable, CustomStringConvertible {
    public let value: UInt64
    package init(value: UInt64) { self.value = value }
    public var description: String { String(value, radix: 16) }
}

extension BucketRecord {
    /// The stamp of this record's access-relevant fields (all of them, today).
    public var accessStamp: BucketAccessStamp {
        var writer = ByteWriter(capacity: 128 + (policy?.utf8.count ?? 0))
        writer.writeString(name)
        writer.writeString(owner)
        writer.writeInt(createdTime)
        writer.write(acl)
        writer.write(ownership)
        writer.write(policy)
        // Only when set, so that buckets without one keep the stamps earlier versions compute.
        if let publicAccessBlock { writer.writeByte(publicAccessBlock.rawValue) }
        let digest = SHA256.hash(data: writer.bytes)
        return BucketAccessStamp(value: digest.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) })
    }
}
