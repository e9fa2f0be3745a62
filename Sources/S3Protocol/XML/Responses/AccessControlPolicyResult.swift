/// `GetBucketAcl` / `GetObjectAcl` response (`<AccessControlPolicy>`): the owner and its grants to
/// canonical users and groups.
public struct AccessControlPolicyResult: Sendable, Hashable {
    /// One grant.
    public struct Grant: Sendable, Hashable {
        /// Who is granted.
        public var grantee: ACLGranteeResult
        /// `FULL_CONTROL`, `READ`, `WRITE`, `READ_ACP` or `WRITE_ACP`.
        public var permission: String

        /// Creates a grant.
        public init(grantee: ACLGranteeResult, permission: String) {
            self.grantee = grantee
            self.permission = permission
        }
    }

    /// The resource's owner.
    public var owner: S3Owner
    /// The grants in order.
    public var grants: [Grant]

    /// Creates the response.
    public init(owner: S3Owner, grants: [Grant]) {
        self.owner = owner
        self.grants = grants
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("AccessControlPolicy", namespace: XMLWriter.s3Namespace) { writer in
            owner.write("Owner", to: &writer)
            writer.element("AccessControlList") { writer in
                for grant in grants {
                    writer.element("Grant") { writer in
                        switch grant.grantee {
                        case .canonicalUser(let user):
                            writer.element("Grantee", attributes: [
                                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "CanonicalUser"),
                            ]) { writer in
                                writer.element("ID", user.id)
                                writer.element("DisplayName", user.displayName)
                            }
                        case .group(let uri):
                            writer.element("Grantee", attributes: [
                                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "Group"),
                            ]) { writer in
                                writer.element("URI", uri)
                            }
                        }
                        writer.element("Permission", grant.permission)
                    }
                }
            }
        }
        return writer.finish()
    }
}
