import Foundation

// The XML of access control: AccessControlPolicy (Get/PutBucketAcl, Get/PutObjectAcl), the grantees of
// `x-amz-grant-*` headers, and OwnershipControls. Pure parsing and printing; what a grant means is the
// Gateway's business.

/// A grantee as a request names it.
public enum ACLGranteeName: Sendable, Hashable {
    /// `CanonicalUser` (`<ID>` or `id=`): a 64-hex canonical user id.
    case canonicalUser(id: String)
    /// `AmazonCustomerByEmail` (`<EmailAddress>` or `emailAddress=`).
    case email(String)
    /// `Group` (`<URI>` or `uri=`).
    case group(uri: String)
}

/// One grant of a request: a grantee and a permission as sent (validated by the Gateway).
public struct ACLGrantRequest: Sendable, Hashable {
    /// Who is granted.
    public var grantee: ACLGranteeName
    /// The permission text (`READ`, `WRITE`, `READ_ACP`, `WRITE_ACP`, `FULL_CONTROL` when valid).
    public var permission: String

    /// Creates a grant.
    public init(grantee: ACLGranteeName, permission: String) {
        self.grantee = grantee
        self.permission = permission
    }
}

/// Why an ACL in a request was refused: the Gateway maps `.malformed` to `MalformedACLError` and
/// `.invalidArgument` to `InvalidArgument`.
public enum ACLRequestError: Error, Sendable, Hashable {
    /// The document does not describe an ACL (missing elements, an unknown grantee shape).
    case malformed(reason: String)
    /// A grant header that cannot be read.
    case invalidArgument(reason: String)
}

/// A PutBucketAcl / PutObjectAcl body: `<AccessControlPolicy>` with an optional owner and grants.
public struct AccessControlPolicyRequest: Sendable, Hashable {
    /// The `<Owner><ID>` given, if any.
    public var ownerID: String?
    /// The grants in document order.
    public var grants: [ACLGrantRequest]

    /// Parses the document. Not well-formed XML or another root is `MalformedXML` (`XMLRequestError`); a
    /// well-formed document that is not an ACL is `ACLRequestError.malformed`.
    public static func parse(_ body: [UInt8]) throws(ACLParseFailure) -> AccessControlPolicyRequest {
        let root: XMLElementNode
        do {
            root = try XMLTree.parse(body, rootName: "AccessControlPolicy")
        } catch {
            if case .malformedXML(let reason) = error, reason.hasPrefix("root element") {
                throw .acl(.malformed(reason: reason))
            }
            throw .xml(error)
        }
        let ownerID = root.child("Owner")?.child("ID").map { trimmed($0.text) }
        guard let list = root.child("AccessControlList") else {
            throw .acl(.malformed(reason: "no AccessControlList element"))
        }
        var grants: [ACLGrantRequest] = []
        for grant in list.children("Grant") {
            guard let grantee = grant.child("Grantee"), let permission = grant.child("Permission") else {
                throw .acl(.malformed(reason: "a Grant needs a Grantee and a Permission"))
            }
            let name: ACLGranteeName
            if let id = grantee.child("ID") {
                name = .canonicalUser(id: trimmed(id.text))
            } else if let email = grantee.child("EmailAddress") {
                name = .email(trimmed(email.text))
            } else if let uri = grantee.child("URI") {
                name = .group(uri: trimmed(uri.text))
            } else {
                throw .acl(.malformed(reason: "a Grantee needs an ID, an EmailAddress or a URI"))
            }
            grants.append(ACLGrantRequest(grantee: name, permission: trimmed(permission.text)))
        }
        return AccessControlPolicyRequest(ownerID: ownerID, grants: grants)
    }

    /// The grantees of one `x-amz-grant-*` header: `id="…", emailAddress="…", uri="…"` separated by
    /// commas (quotes optional).
    public static func parseGrantHeader(_ value: String) throws(ACLRequestError) -> [ACLGranteeName] {
        var grantees: [ACLGranteeName] = []
        for item in value.split(separator: ",") {
            let part = item.trimmingSpaces()
            guard !part.isEmpty else { continue }
            guard let equals = part.firstIndex(of: "=") else {
                throw .invalidArgument(reason: "a grantee needs type=value: \(part.prefix(64))")
            }
            let type = part[..<equals].trimmingSpaces().lowercased()
            var text = part[part.index(after: equals)...].trimmingSpaces()
            if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
            let name = String(text)
            switch type {
            case "id": grantees.append(.canonicalUser(id: name))
            case "emailaddress": grantees.append(.email(name))
            case "uri": grantees.append(.group(uri: name))
            default: throw .invalidArgument(reason: "unknown grantee type \(type.prefix(32))")
            }
        }
        guard !grantees.isEmpty else { throw .invalidArgument(reason: "an empty grant header") }
        return grantees
    }
}

/// Either failure of an ACL document: not XML at all, or XML that is no ACL.
public enum ACLParseFailure: Error, Sendable, Hashable {
    /// The body is not well-formed XML (or too large).
    case xml(XMLRequestError)
    /// The body is XML but not a valid AccessControlPolicy.
    case acl(ACLRequestError)
}

/// A grantee in a GetAcl answer.
public enum ACLGranteeResult: Sendable, Hashable {
    /// A user, by canonical id and display name.
    case canonicalUser(S3Owner)
    /// A group, by URI.
    case group(uri: String)
}

/// `PutBucketOwnershipControls` body / `GetBucketOwnershipControls` answer.
public struct OwnershipControlsDocument: Sendable, Hashable {
    /// `BucketOwnerPreferred`, `ObjectWriter` or `BucketOwnerEnforced` (validated by the Gateway).
    public var objectOwnership: String

    /// Creates the document.
    public init(objectOwnership: String) { self.objectOwnership = objectOwnership }

    /// Parses `<OwnershipControls><Rule><ObjectOwnership>…` (exactly one rule).
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> OwnershipControlsDocument {
        let root = try XMLTree.parse(body, rootName: "OwnershipControls")
        let rules = root.children("Rule")
        guard rules.count == 1, let value = rules[0].child("ObjectOwnership") else {
            throw .malformedXML(reason: "OwnershipControls needs exactly one Rule with an ObjectOwnership")
        }
        return OwnershipControlsDocument(objectOwnership: trimmed(value.text))
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("OwnershipControls", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Rule") { writer in writer.element("ObjectOwnership", objectOwnership) }
        }
        return writer.finish()
    }
}

private func trimmed(_ text: String) -> String {
    text.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// `GetBucketPolicyStatus` answer.
public struct PolicyStatusResult: Sendable, Hashable {
    /// Whether the bucket policy makes the bucket public.
    public var isPublic: Bool
    public init(isPublic: Bool) { self.isPublic = isPublic }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("PolicyStatus", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("IsPublic", isPublic ? "true" : "false")
        }
        return writer.finish()
    }
}
