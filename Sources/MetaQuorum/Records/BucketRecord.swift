/// A bucket: its owner (a user id), its ACL, ownership controls and policy (schema 5).
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
    public init(name: String, owner: String, createdTime: Int64, acl: AccessControlList? = nil,
                ownership: ObjectOwnership? = nil, policy: String? = nil) {
        self.name = name
        self.owner = owner
        self.createdTime = createdTime
        self.acl = acl ?? .ownerOnly(owner)
        self.ownership = ownership
        self.policy = policy
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
