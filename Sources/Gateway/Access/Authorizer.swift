import MetaContract
import S3Protocol
import Synchronization

/// An S3 permission as IAM names it (`s3:GetObject`): what a request needs, for ACLs and policies alike.
enum S3Action: String, Sendable, CaseIterable {
    case listBucket = "s3:ListBucket"
    case listBucketMultipartUploads = "s3:ListBucketMultipartUploads"
    case listBucketVersions = "s3:ListBucketVersions"
    case listMultipartUploadParts = "s3:ListMultipartUploadParts"
    case getBucketLocation = "s3:GetBucketLocation"
    case deleteBucket = "s3:DeleteBucket"
    case getBucketAcl = "s3:GetBucketAcl"
    case putBucketAcl = "s3:PutBucketAcl"
    case getBucketOwnershipControls = "s3:GetBucketOwnershipControls"
    case putBucketOwnershipControls = "s3:PutBucketOwnershipControls"
    case getBucketPolicy = "s3:GetBucketPolicy"
    case putBucketPolicy = "s3:PutBucketPolicy"
    case deleteBucketPolicy = "s3:DeleteBucketPolicy"
    case getBucketPolicyStatus = "s3:GetBucketPolicyStatus"
    case getObject = "s3:GetObject"
    case getObjectVersion = "s3:GetObjectVersion"
    case getBucketVersioning = "s3:GetBucketVersioning"
    case putBucketVersioning = "s3:PutBucketVersioning"
    case getObjectAttributes = "s3:GetObjectAttributes"
    case getObjectAcl = "s3:GetObjectAcl"
    case getObjectVersionAcl = "s3:GetObjectVersionAcl"
    case putObjectAcl = "s3:PutObjectAcl"
    case putObject = "s3:PutObject"
    case deleteObject = "s3:DeleteObject"
    case abortMultipartUpload = "s3:AbortMultipartUpload"
    case getObjectTagging = "s3:GetObjectTagging"
    case putObjectTagging = "s3:PutObjectTagging"
    case deleteObjectTagging = "s3:DeleteObjectTagging"
    case getObjectVersionTagging = "s3:GetObjectVersionTagging"
    case putObjectVersionTagging = "s3:PutObjectVersionTagging"
    case deleteObjectVersionTagging = "s3:DeleteObjectVersionTagging"
    /// Also DeleteBucketTagging's permission, as in IAM.
    case getBucketTagging = "s3:GetBucketTagging"
    case putBucketTagging = "s3:PutBucketTagging"
    /// Also DeleteBucketCors's permission, as in IAM.
    case getBucketCORS = "s3:GetBucketCORS"
    case putBucketCORS = "s3:PutBucketCORS"
    case getLifecycleConfiguration = "s3:GetLifecycleConfiguration"
    /// Also DeleteBucketLifecycle's permission, as in IAM.
    case putLifecycleConfiguration = "s3:PutLifecycleConfiguration"
    case getBucketPublicAccessBlock = "s3:GetBucketPublicAccessBlock"
    /// Also DeletePublicAccessBlock's permission, as in IAM.
    case putBucketPublicAccessBlock = "s3:PutBucketPublicAccessBlock"
    case getBucketObjectLockConfiguration = "s3:GetBucketObjectLockConfiguration"
    case putBucketObjectLockConfiguration = "s3:PutBucketObjectLockConfiguration"
    case getObjectRetention = "s3:GetObjectRetention"
    case putObjectRetention = "s3:PutObjectRetention"
    case getObjectLegalHold = "s3:GetObjectLegalHold"
    case putObjectLegalHold = "s3:PutObjectLegalHold"
    /// Needed, besides the operation's own permission, for `x-amz-bypass-governance-retention` to take effect.
    case bypassGovernanceRetention = "s3:BypassGovernanceRetention"

    /// What an ACL must grant for the action, and on which resource; nil: no ACL grants it (only the
    /// bucket owner, or a policy, may).
    var aclRequirement: (permission: ACLPermission, onObject: Bool)? {
        switch self {
        case .listBucket, .listBucketMultipartUploads, .listBucketVersions, .listMultipartUploadParts:
            return (.read, false)
        case .putObject, .deleteObject, .abortMultipartUpload: return (.write, false)
        case .getBucketAcl: return (.readACP, false)
        case .putBucketAcl: return (.writeACP, false)
        case .getObject, .getObjectVersion, .getObjectAttributes: return (.read, true)
        case .getObjectAcl, .getObjectVersionAcl: return (.readACP, true)
        case .putObjectAcl: return (.writeACP, true)
        case .getBucketLocation, .deleteBucket, .getBucketOwnershipControls, .putBucketOwnershipControls,
             .getBucketPolicy, .putBucketPolicy, .deleteBucketPolicy, .getBucketPolicyStatus, .getBucketVersioning,
             .putBucketVersioning:
            return nil
        // No ACL permission grants tagging or CORS (S3's ACL-to-permission map has none): the bucket owner
        // or a policy decides.
        case .getObjectTagging, .putObjectTagging, .deleteObjectTagging, .getObjectVersionTagging,
             .putObjectVersionTagging, .deleteObjectVersionTagging, .getBucketTagging, .putBucketTagging,
             .getBucketCORS, .putBucketCORS, .getLifecycleConfiguration, .putLifecycleConfiguration:
            return nil
        case .getBucketPublicAccessBlock, .putBucketPublicAccessBlock:
            return nil
        // No ACL permission grants object lock (S3's ACL-to-permission map has none).
        case .getBucketObjectLockConfiguration, .putBucketObjectLockConfiguration, .getObjectRetention,
             .putObjectRetention, .getObjectLegalHold, .putObjectLegalHold, .bypassGovernanceRetention:
            return nil
        }
    }

    var isPolicyManagement: Bool {
        self == .getBucketPolicy || self == .putBucketPolicy || self == .deleteBucketPolicy
    }

    /// Whether the action is about an object (its resource is `bucket/key`) rather than the bucket.
    var isObjectAction: Bool {
        switch self {
        case .getObject, .getObjectVersion, .getObjectAttributes, .getObjectAcl, .getObjectVersionAcl, .putObjectAcl,
             .putObject, .deleteObject, .abortMultipartUpload, .listMultipartUploadParts,
             .getObjectTagging, .putObjectTagging, .deleteObjectTagging, .getObjectVersionTagging,
             .putObjectVersionTagging, .deleteObjectVersionTagging, .getObjectRetention, .putObjectRetention,
             .getObjectLegalHold, .putObjectLegalHold, .bypassGovernanceRetention:
            return true
        default:
            return false
        }
    }
}

/// One question to the `Authorizer`: may `principal` do `action` on this bucket (and object)?
struct AccessRequest: Sendable {
    var principal: AccessPrincipal
    /// The signing user's name (policy principals may name users by name), nil for anonymous.
    var principalName: String? = nil
    /// Condition keys (lower-cased) → values, for the bucket policy.
    var context: [String: [String]] = [:]
    var action: S3Action
    var bucket: BucketRecord
    /// For object actions on an existing object: its owner and ACL as stored (nil owner or ACL: a record
    /// from before ACLs, private to the bucket owner).
    var object: ObjectRecord?
    /// The object key for object actions, empty for bucket actions.
    var key: String = ""
}

/// The one place Silo decides whether a request is allowed, combining the bucket policy, ACLs and object
/// ownership as S3 does for requests within one account's users:
///
/// 1. an explicit `Deny` in the bucket policy refuses;
/// 2. an `Allow` in the bucket policy allows;
/// 3. otherwise the bucket owner may do every bucket-level action (owner-only ones included) and, under
///    `BucketOwnerEnforced`, everything on every object; the owner of a bucket or object always has
///    READ_ACP and WRITE_ACP on it;
/// 4. otherwise ACLs decide (not under `BucketOwnerEnforced`, where ACLs are disabled): the action's
///    permission on the bucket's ACL or the object's;
/// 5. otherwise the request is refused (AccessDenied).
///
/// Pure: no I/O; the Gateway reads the bucket and object linearizably and hands them in.
enum Authorizer {
    static func allows(_ request: AccessRequest) -> Bool {
        switch policyDecision(request) {
        case .deny:
            // The bucket owner can always manage the policy, so no policy locks its owner out for good.
            return request.action.isPolicyManagement && request.principal == .user(id: request.bucket.owner)
        case .allow: return true
        case .notApplicable: return aclAllows(request)
        }
    }

    /// Step 1 and 2: what the bucket policy says, if there is one.
    static func policyDecision(_ request: AccessRequest) -> PolicyDecision {
        guard let policy = request.bucket.parsedPolicy else { return .notApplicable }
        let restricted = request.bucket.publicAccessBlock?.restrictPublicBuckets == true && policy.isPublic
            && request.principal == .anonymous
        var resource = "arn:aws:s3:::" + request.bucket.name
        if request.action.isObjectAction { resource += "/" + request.key }
        let principal: PolicyPrincipal = switch request.principal {
        case .anonymous: .anonymous
        case .user(let id): .user(id: id, name: request.principalName ?? id, canonicalID: ACLResolver.canonicalID(id))
        }
        let decision = PolicyEvaluator.evaluate(policy, request: PolicyRequest(
            principal: principal, action: request.action.rawValue, resource: resource, context: request.context))
        // RestrictPublicBuckets: a public policy's Allows reach only the bucket owner's users (all of Silo's
        // users are one account's), never anonymous callers; its Denys still hold.
        if restricted && decision == .allow { return .notApplicable }
        return decision
    }

    /// Steps 3 and 4 of the rule: ownership and ACLs, without the policy.
    static func aclAllows(_ request: AccessRequest) -> Bool {
        let bucket = request.bucket
        let isBucketOwner = request.principal == .user(id: bucket.owner)
        let enforced = bucket.ownership == .bucketOwnerEnforced
        guard let requirement = request.action.aclRequirement else { return isBucketOwner }
        if !requirement.onObject {
            if isBucketOwner && (enforced || requirement.permission == .readACP || requirement.permission == .writeACP) {
                return true
            }
            if enforced { return false }
            return bucket.effectiveACL(bucket.acl).grants(requirement.permission, to: request.principal)
        }
        if enforced { return isBucketOwner }
        guard let object = request.object else { return false }
        let owner = object.owner ?? bucket.owner
        let isObjectOwner = request.principal == .user(id: owner)
        if isObjectOwner && (requirement.permission == .readACP || requirement.permission == .writeACP) { return true }
        let acl = object.acl ?? .ownerOnly(owner)
        return bucket.effectiveACL(acl).grants(requirement.permission, to: request.principal)
    }
}

extension AccessControlList {
    /// Whether any grant goes to everyone or to every authenticated user (what S3 calls a public ACL).
    var isPublic: Bool {
        grants.contains { $0.grantee == .allUsers || $0.grantee == .authenticatedUsers }
    }
}

extension BucketRecord {
    /// `acl` as access decisions read it in this bucket: without its public grants under
    /// `IgnorePublicAcls`.
    func effectiveACL(_ acl: AccessControlList) -> AccessControlList {
        guard publicAccessBlock?.ignorePublicAcls == true, acl.isPublic else { return acl }
        return AccessControlList(grants: acl.grants.filter { $0.grantee != .allUsers && $0.grantee != .authenticatedUsers })
    }

    /// The stored policy, parsed. It was validated by the same parser when it was put; text that no
    /// longer parses (a future format) is ignored, leaving ACLs to decide.
    var parsedPolicy: BucketPolicy? {
        guard let policy else { return nil }
        return ParsedPolicies.policy(policy, bucket: name)
    }
}

/// Parsed bucket policies by (bucket, exact text): a request on a bucket with a policy would otherwise
/// parse its JSON every time. Keyed by content, so an entry can never be stale: a changed policy is a
/// new key. Bounded; cleared when full.
enum ParsedPolicies {
    static let entriesMax = 256
    private static let entries = Mutex<[String: BucketPolicy]>([:])

    static func policy(_ text: String, bucket: String) -> BucketPolicy? {
        let key = bucket + "\u{0}" + text
        if let cached = entries.withLock({ $0[key] }) { return cached }
        guard let parsed = try? BucketPolicy.parse(Array(text.utf8), bucket: bucket) else { return nil }
        entries.withLock { entries in
            if entries.count >= entriesMax { entries.removeAll(keepingCapacity: true) }
            entries[key] = parsed
        }
        return parsed
    }
}
