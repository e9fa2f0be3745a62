/// S3 access control lists as replicated metadata: who holds which permission on a bucket or an object.
///
/// Pure values: no I/O. Stored inside bucket rows and object and upload records (command format 3), and
/// read by the Gateway's `Authorizer`, the one place that decides whether a request is allowed.

/// One of the five ACL permissions. `fullControl` implies the other four.
public enum ACLPermission: String, Sendable, Equatable, Hashable, CaseIterable {
    case read = "READ"
    case write = "WRITE"
    case readACP = "READ_ACP"
    case writeACP = "WRITE_ACP"
    case fullControl = "FULL_CONTROL"

    /// Whether a grant of `self` gives `permission`.
    public func implies(_ permission: ACLPermission) -> Bool {
        self == .fullControl || self == permission
    }

    package var tag: UInt8 {
        switch self {
        case .read: 1
        case .write: 2
        case .readACP: 3
        case .writeACP: 4
        case .fullControl: 5
        }
    }

    package init(tag: UInt8) throws(MetaCodecError) {
        switch tag {
        case 1: self = .read
        case 2: self = .write
        case 3: self = .readACP
        case 4: self = .writeACP
        case 5: self = .fullControl
        default: throw .invalidTag(tag)
        }
    }
}

/// Who a grant is to.
public enum ACLGrantee: Sendable, Equatable, Hashable {
    /// A Silo user, by its immutable id (`UserRecord.id`), never its name.
    case user(id: String)
    /// `http://acs.amazonaws.com/groups/global/AllUsers`: everyone, anonymous requests included.
    case allUsers
    /// `http://acs.amazonaws.com/groups/global/AuthenticatedUsers`: every signed request.
    case authenticatedUsers
}

/// One grant: a grantee and a permission.
public struct ACLGrant: Sendable, Equatable, Hashable {
    public var grantee: ACLGrantee
    public var permission: ACLPermission
    public init(grantee: ACLGrantee, permission: ACLPermission) {
        self.grantee = grantee
        self.permission = permission
    }
}

/// Who makes a request, as access control sees it.
public enum AccessPrincipal: Sendable, Equatable, Hashable {
    /// An unsigned request.
    case anonymous
    /// A signed request from the user with this id.
    case user(id: String)

    /// The user id, nil for an anonymous request.
    public var userID: String? {
        if case .user(let id) = self { return id }
        return nil
    }
}

/// The grants of one bucket or object, in the order they were set (GetAcl reports them in that order).
/// The resource's owner is kept beside it (`BucketRecord.owner`, `ObjectRecord.owner`), not in it.
public struct AccessControlList: Sendable, Equatable, Hashable {
    public var grants: [ACLGrant]
    public init(grants: [ACLGrant]) { self.grants = grants }

    /// The ACL of a new resource without any ACL asked for, and of every record from before ACLs
    /// (command formats 1 and 2): its owner alone, with FULL_CONTROL.
    public static func ownerOnly(_ owner: String) -> AccessControlList {
        AccessControlList(grants: [ACLGrant(grantee: .user(id: owner), permission: .fullControl)])
    }

    /// Whether `principal` holds `permission` through one of the grants. The owner's implicit rights
    /// (READ_ACP and WRITE_ACP, whatever the grants say) are the `Authorizer`'s business, not this.
    public func grants(_ permission: ACLPermission, to principal: AccessPrincipal) -> Bool {
        grants.contains { grant in
            guard grant.permission.implies(permission) else { return false }
            switch grant.grantee {
            case .allUsers: return true
            case .authenticatedUsers: return principal != .anonymous
            case .user(let id): return principal == .user(id: id)
            }
        }
    }
}

/// S3 Object Ownership (`PutBucketOwnershipControls`): who owns the objects other users write.
public enum ObjectOwnership: String, Sendable, Equatable, Hashable, CaseIterable {
    /// The writer owns what it writes (S3's behaviour before ownership controls).
    case objectWriter = "ObjectWriter"
    /// The bucket owner owns an object written with the `bucket-owner-full-control` canned ACL.
    case bucketOwnerPreferred = "BucketOwnerPreferred"
    /// ACLs are disabled: the bucket owner owns every object and only policies grant access.
    case bucketOwnerEnforced = "BucketOwnerEnforced"

    package var tag: UInt8 {
        switch self {
        case .objectWriter: 1
        case .bucketOwnerPreferred: 2
        case .bucketOwnerEnforced: 3
        }
    }

    package init(tag: UInt8) throws(MetaCodecError) {
        switch tag {
        case 1: self = .objectWriter
        case 2: self = .bucketOwnerPreferred
        case 3: self = .bucketOwnerEnforced
        default: throw .invalidTag(tag)
        }
    }
}

/// The owner and ACL an object is stored with, decided when the write is applied from what the writer
/// asked for and the bucket's ownership controls at that moment (`MetaStateMachine`), so a concurrent
/// `PutBucketOwnershipControls` can never leave an object owned against the bucket's rule.
public enum ObjectOwnershipRule {
    /// - Parameters:
    ///   - writer: the user whose request writes the object.
    ///   - requested: the ACL the request asked for (a canned ACL or grant headers, already resolved);
    ///     nil: none, the owner-only ACL.
    ///     Under `BucketOwnerPreferred` an ACL that gives the bucket owner FULL_CONTROL (what
    ///     `bucket-owner-full-control` asks for) hands the object to the bucket owner.
    public static func decide(writer: String, requested: AccessControlList?, bucket: BucketRecord)
        -> (owner: String, acl: AccessControlList)
    {
        // An anonymous writer (empty id) owns nothing: what it writes is the bucket owner's.
        let writer = writer.isEmpty ? bucket.owner : writer
        let requested = requested ?? .ownerOnly(writer)
        let bucketOwnerFullControl = requested.grants.contains(
            ACLGrant(grantee: .user(id: bucket.owner), permission: .fullControl))
        switch bucket.ownership ?? .objectWriter {
        case .bucketOwnerEnforced:
            return (bucket.owner, .ownerOnly(bucket.owner))
        case .bucketOwnerPreferred where bucketOwnerFullControl:
            return (bucket.owner, .ownerOnly(bucket.owner))
        case .bucketOwnerPreferred, .objectWriter:
            return (writer, requested)
        }
    }
}

extension ByteWriter {
    package mutating func write(_ acl: AccessControlList) {
        writeCount(acl.grants.count)
        for grant in acl.grants {
            switch grant.grantee {
            case .user(let id):
                writeByte(1)
                writeString(id)
            case .allUsers: writeByte(2)
            case .authenticatedUsers: writeByte(3)
            }
            writeByte(grant.permission.tag)
        }
    }

    package mutating func write(_ acl: AccessControlList?) {
        guard let acl else { return writeBool(false) }
        writeBool(true)
        write(acl)
    }

    package mutating func write(_ ownership: ObjectOwnership?) {
        writeByte(ownership?.tag ?? 0)
    }
}

extension ByteReader {
    package mutating func readACL() throws(MetaCodecError) -> AccessControlList {
        let count = try readCount(elementBytesMin: 2)
        var grants: [ACLGrant] = []
        grants.reserveCapacity(count)
        for _ in 0..<count {
            let grantee: ACLGrantee
            switch try readByte() {
            case 1: grantee = .user(id: try readString())
            case 2: grantee = .allUsers
            case 3: grantee = .authenticatedUsers
            case let tag: throw .invalidTag(tag)
            }
            grants.append(ACLGrant(grantee: grantee, permission: try ACLPermission(tag: try readByte())))
        }
        return AccessControlList(grants: grants)
    }

    package mutating func readOptionalACL() throws(MetaCodecError) -> AccessControlList? {
        try readBool() ? try readACL() : nil
    }

    package mutating func readOwnership() throws(MetaCodecError) -> ObjectOwnership? {
        let tag = try readByte()
        return tag == 0 ? nil : try ObjectOwnership(tag: tag)
    }
}
