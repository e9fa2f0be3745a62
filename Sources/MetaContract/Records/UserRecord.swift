/// A user (an S3 account): one access key pair.
public struct UserRecord: Sendable, Equatable, Codable {
    /// The immutable identity that owns buckets and signs commands (`requester`). Chosen once, when the
    /// user is created (`u:` and 32 random hex digits); a later user with the same name gets another id
    /// and so owns nothing of the first. Users created before ids existed have their name as id.
    public var id: String
    public var name: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var isRoot: Bool
    /// Milliseconds since the Unix epoch.
    public var createdTime: Int64
    /// - Parameter id: nil for the legacy identity, the name.
    public init(id: String? = nil, name: String, accessKeyID: String, secretAccessKey: String, isRoot: Bool,
                createdTime: Int64) {
        self.id = id ?? name
        self.name = name
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.isRoot = isRoot
        self.createdTime = createdTime
    }
}
