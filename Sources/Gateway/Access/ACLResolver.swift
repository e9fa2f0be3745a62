import Crypto
import HTTPTypes
import MetaContract
import S3Protocol

/// Turns what a request says about an ACL (a canned ACL, `x-amz-grant-*` headers, or an
/// AccessControlPolicy document) into an `AccessControlList` of Silo user ids, with S3's validation and
/// errors; and turns a stored ACL back into what GetAcl answers.
struct ACLResolver {
    let users: [UserRecord]

    static let allUsersURI = "http://acs.amazonaws.com/groups/global/AllUsers"
    static let authenticatedUsersURI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

    /// The grant headers and the permission each gives.
    static let grantHeaders: [(name: String, permission: ACLPermission)] = [
        ("x-amz-grant-read", .read), ("x-amz-grant-write", .write), ("x-amz-grant-read-acp", .readACP),
        ("x-amz-grant-write-acp", .writeACP), ("x-amz-grant-full-control", .fullControl),
    ]

    /// S3's canonical user id of a Silo user id: 64 hex digits, the SHA-256 of the id.
    static func canonicalID(_ userID: String) -> String {
        Hex.encode(SHA256.hash(data: Array(userID.utf8)))
    }

    /// Whether the request names an ACL in its headers (a canned ACL or any grant header).
    static func hasACLHeaders(_ headers: HTTPFields) -> Bool {
        headers[HTTPField.Name("x-amz-acl")!] != nil
            || grantHeaders.contains { headers[HTTPField.Name($0.name)!] != nil }
    }

    /// The ACL a canned name gives a resource of `owner` in a bucket of `bucketOwner`.
    /// Group grants come before the owner's, as S3 and Ceph list them.
    static func canned(_ name: String, owner: String, bucketOwner: String) throws -> AccessControlList {
        var grants: [ACLGrant] = []
        switch name {
        case "private": break
        case "public-read": grants.append(ACLGrant(grantee: .allUsers, permission: .read))
        case "public-read-write":
            grants.append(ACLGrant(grantee: .allUsers, permission: .read))
            grants.append(ACLGrant(grantee: .allUsers, permission: .write))
        case "authenticated-read": grants.append(ACLGrant(grantee: .authenticatedUsers, permission: .read))
        case "bucket-owner-read", "bucket-owner-full-control": break
        case "aws-exec-read", "log-delivery-write":
            throw S3Error(.notImplemented, "The canned ACL \(name) is not implemented by Silo.",
                          details: [("Header", "x-amz-acl")])
        default:
            throw S3Error(.invalidArgument, "\(name) is not a canned ACL.",
                          details: [("ArgumentName", "x-amz-acl"), ("ArgumentValue", name)])
        }
        grants.append(ACLGrant(grantee: .user(id: owner), permission: .fullControl))
        if bucketOwner != owner && name == "bucket-owner-read" {
            grants.append(ACLGrant(grantee: .user(id: bucketOwner), permission: .read))
        }
        if bucketOwner != owner && name == "bucket-owner-full-control" {
            grants.append(ACLGrant(grantee: .user(id: bucketOwner), permission: .fullControl))
        }
        return AccessControlList(grants: grants)
    }

    /// The ACL the request's headers ask for, or nil if they name none. Refuses a canned ACL together
    /// with grant headers, as S3 does.
    func fromHeaders(_ headers: HTTPFields, owner: String, bucketOwner: String) throws -> AccessControlList? {
        let cannedName = headers[HTTPField.Name("x-amz-acl")!]?.trimmingCharacters(in: .whitespaces)
        var grants: [ACLGrant] = []
        for header in Self.grantHeaders {
            for value in headers[values: HTTPField.Name(header.name)!] {
                let names: [ACLGranteeName]
                do {
                    names = try AccessControlPolicyRequest.parseGrantHeader(value)
                } catch {
                    throw S3Error(.invalidArgument, "\(header.name) is malformed.",
                                  details: [("ArgumentName", header.name), ("ArgumentValue", value)], cause: error)
                }
                for name in names {
                    grants.append(ACLGrant(grantee: try resolve(name), permission: header.permission))
                }
            }
        }
        switch (cannedName, grants.isEmpty) {
        case (nil, true): return nil
        case (let name?, true): return try Self.canned(name, owner: owner, bucketOwner: bucketOwner)
        case (nil, false): return AccessControlList(grants: grants)
        case (.some, false):
            throw S3Error(.invalidRequest, "Specifying both Canned ACLs and Header Grants is not allowed")
        }
    }

    /// The ACL of an AccessControlPolicy document for a resource of `owner`.
    func fromDocument(_ body: [UInt8], owner: String) throws -> AccessControlList {
        let document = try AccessControlPolicyRequest.parse(body)
        if let ownerID = document.ownerID, ownerID.lowercased() != Self.canonicalID(owner) {
            throw S3Error(.accessDenied, "The Owner in the AccessControlPolicy is not the resource's owner.")
        }
        var grants: [ACLGrant] = []
        for grant in document.grants {
            guard let permission = ACLPermission(rawValue: grant.permission) else {
                throw S3Error(.malformedACLError, cause: ACLRequestError.malformed(reason: "permission \(grant.permission)"))
            }
            grants.append(ACLGrant(grantee: try resolve(grant.grantee), permission: permission))
        }
        return AccessControlList(grants: grants)
    }

    /// A grantee as a request names it → the grantee as stored.
    func resolve(_ name: ACLGranteeName) throws -> ACLGrantee {
        switch name {
        case .group(let uri):
            switch uri {
            case Self.allUsersURI: return .allUsers
            case Self.authenticatedUsersURI: return .authenticatedUsers
            default: throw S3Error(.invalidArgument, "Invalid group uri", details: [("ArgumentName", "uri"), ("ArgumentValue", uri)])
            }
        case .canonicalUser(let id):
            let wanted = id.lowercased()
            guard let user = users.first(where: { Self.canonicalID($0.id) == wanted || $0.id == id }) else {
                throw S3Error(.invalidArgument, "Invalid id", details: [("ArgumentName", "CanonicalUser/ID"), ("ArgumentValue", id)])
            }
            return .user(id: user.id)
        case .email(let address):
            // Silo users have names, not e-mail addresses: an address names the user of that name, or of
            // the name before its `@`.
            let lowered = address.lowercased()
            let local = lowered.split(separator: "@", maxSplits: 1).first.map(String.init) ?? lowered
            guard let user = users.first(where: { $0.name.lowercased() == lowered })
                ?? users.first(where: { $0.name.lowercased() == local })
            else {
                throw S3Error(.unresolvableGrantByEmailAddress, details: [("EmailAddress", address)])
            }
            return .user(id: user.id)
        }
    }

    /// The owner element of an answer.
    func owner(_ userID: String) -> S3Owner {
        S3Owner(id: Self.canonicalID(userID), displayName: users.first { $0.id == userID }?.name ?? userID)
    }

    /// What GetBucketAcl / GetObjectAcl answer: group grants first, then user grants, each in stored order
    /// (the order S3 and Ceph list them in, which some clients' comparisons assume).
    func result(owner: String, acl: AccessControlList) -> AccessControlPolicyResult {
        let groupsFirst = acl.grants.filter { $0.grantee.isGroup } + acl.grants.filter { !$0.grantee.isGroup }
        return AccessControlPolicyResult(owner: self.owner(owner), grants: groupsFirst.map { grant in
            let grantee: ACLGranteeResult
            switch grant.grantee {
            case .user(let id): grantee = .canonicalUser(self.owner(id))
            case .allUsers: grantee = .group(uri: Self.allUsersURI)
            case .authenticatedUsers: grantee = .group(uri: Self.authenticatedUsersURI)
            }
            return .init(grantee: grantee, permission: grant.permission.rawValue)
        })
    }
}

extension ACLGrantee {
    var isGroup: Bool {
        if case .user = self { return false }
        return true
    }
}
