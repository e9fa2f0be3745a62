import Foundation
import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore

/// The admin endpoint (not S3): user management for `silo admin`, under `/_silo/admin/`.
///
/// Requests are SigV4-signed like S3 requests and must come from the root user. Bodies are JSON.
/// - `GET /_silo/admin/users` → `[{"name", "accessKeyID", "isRoot", "createdTime"}]`
/// - `POST /_silo/admin/users` with `{"name", "accessKeyID"?, "secretAccessKey"?}` → the new user,
///   including its secret (generated when not given)
/// - `DELETE /_silo/admin/users/NAME[?force=true]` (force: the user's buckets pass to root)
/// - `GET /_silo/admin/users/NAME`, `GET /_silo/admin/buckets/NAME` → `{"bytes", "objects", "quota"}`
/// - `PUT /_silo/admin/users/NAME/quota`, `PUT /_silo/admin/buckets/NAME/quota` with
///   `{"bytesMax"?, "objectsMax"?}` (neither: no quota)
/// - `GET /_silo/admin/buckets/NAME/durability` → `{"durability": "ec:4+2", "isDefault": false}`
/// - `PUT /_silo/admin/buckets/NAME/durability` with `{"durability": "replicas:N" | "ec:K+M" | "default"}`
///   (objects already written keep their layout) → the same answer as the GET
/// S3 bucket names cannot start with `_`, so these paths never shadow a bucket.
struct AdminAPI {
    static let pathPrefix = "/_silo/admin/"
    /// Largest admin request body (a user is a few hundred bytes of JSON).
    static let bodyBytesMax = 64 << 10
    let gateway: S3Gateway

    struct UserView: Codable {
        var id: String
        var name: String
        var accessKeyID: String
        var secretAccessKey: String?
        var isRoot: Bool
        var createdTime: Int64
    }

    struct CreateUserRequest: Codable {
        var name: String
        var accessKeyID: String?
        var secretAccessKey: String?
    }

    /// Serves one admin call. `body` is the request body with its signature claims: a POST's JSON is read
    /// through the same verification path as S3 bodies, and every other call must be signed for the empty
    /// body, so a replayed signature cannot carry another payload.
    func respond(to request: Request, body: SignedBody, path: String, user: UserRecord, now: Int64) async throws
        -> Response
    {
        guard user.isRoot else { throw S3Error(.accessDenied, "Only the root user may call the admin API.") }
        if request.method != .post && request.method != .put { try body.requireEmpty() }
        let route = path.dropFirst(Self.pathPrefix.count).split(separator: "/", omittingEmptySubsequences: true)
        let requestID = S3Gateway.makeRequestID()
        switch (request.method, route.first, route.count) {
        case (.get, "users", 1):
            let users = try await gateway.metadata.listUsers()
            return try json(users.map {
                UserView(id: $0.id, name: $0.name, accessKeyID: $0.accessKeyID, secretAccessKey: nil,
                         isRoot: $0.isRoot, createdTime: $0.createdTime)
            })
        case (.post, "users", 1):
            var payload = try await body.collectSmall(
                limitBytes: Self.bodyBytesMax,
                tooLarge: S3Error(.entityTooLarge, "Admin requests are at most \(Self.bodyBytesMax) bytes."))
            guard let data = payload.readData(length: payload.readableBytes),
                  let create = try? JSONDecoder().decode(CreateUserRequest.self, from: data)
            else {
                throw S3Error(.invalidArgument, "Expected JSON {\"name\": ..., \"accessKeyID\"?: ..., \"secretAccessKey\"?: ...}.")
            }
            try Self.validate(name: create.name)
            let record = UserRecord(
                id: Credentials.makeUserID(), name: create.name,
                accessKeyID: create.accessKeyID ?? Credentials.makeAccessKeyID(),
                secretAccessKey: create.secretAccessKey ?? Credentials.makeSecretAccessKey(),
                isRoot: false, createdTime: now)
            try Credentials.validate(accessKeyID: record.accessKeyID, secretAccessKey: record.secretAccessKey)
            try await gateway.metadata.createUser(record, commandID: requestID)
            return try json(UserView(id: record.id, name: record.name, accessKeyID: record.accessKeyID,
                                     secretAccessKey: record.secretAccessKey, isRoot: false,
                                     createdTime: record.createdTime), status: .created)
        case (.delete, "users", 2):
            let name = String(route[1]).removingPercentEncoding ?? String(route[1])
            let users = try await gateway.metadata.listUsers()
            if let target = users.first(where: { $0.name == name }) {
                if target.isRoot { throw S3Error(.invalidArgument, "The root user cannot be deleted.") }
                gateway.credentials.forget(accessKeyID: target.accessKeyID)
            }
            // `?force=true`: the user's buckets pass to the root user who asks, instead of a refusal.
            let force = request.uri.queryParameters.get("force") == "true"
            try await gateway.metadata.deleteUser(name: name, heir: force ? user.id : nil, commandID: requestID)
            return S3Gateway.emptyResponse(.noContent)
        case (.get, "users", 2), (.get, "buckets", 2):
            return try json(try await gateway.metadata.usage(of: Self.target(route)))
        case (.put, "users", 3) where route[2] == "quota", (.put, "buckets", 3) where route[2] == "quota":
            var payload = try await body.collectSmall(
                limitBytes: Self.bodyBytesMax,
                tooLarge: S3Error(.entityTooLarge, "Admin requests are at most \(Self.bodyBytesMax) bytes."))
            guard let data = payload.readData(length: payload.readableBytes),
                  let quota = try? JSONDecoder().decode(Quota.self, from: data)
            else { throw S3Error(.invalidArgument, "Expected JSON {\"bytesMax\"?: N, \"objectsMax\"?: N}.") }
            try await gateway.metadata.setQuota(quota, for: Self.target(route), commandID: requestID)
            return try json(try await gateway.metadata.usage(of: Self.target(route)))
        case (.get, "buckets", 3) where route[2] == "durability":
            return try json(try await durabilityView(bucket: Self.name(route)))
        case (.put, "buckets", 3) where route[2] == "durability":
            var payload = try await body.collectSmall(
                limitBytes: Self.bodyBytesMax,
                tooLarge: S3Error(.entityTooLarge, "Admin requests are at most \(Self.bodyBytesMax) bytes."))
            guard let data = payload.readData(length: payload.readableBytes),
                  let request = try? JSONDecoder().decode(DurabilityView.self, from: data)
            else { throw S3Error(.invalidArgument, "Expected JSON {\"durability\": \"replicas:N\" | \"ec:K+M\" | \"default\"}.") }
            let durability = try Self.durability(parsing: request.durability, writableNodes: gateway.cluster.writableNodeCount)
            try await gateway.metadata.setBucketDurability(bucket: Self.name(route), durability: durability,
                                                           commandID: requestID)
            return try json(try await durabilityView(bucket: Self.name(route)))
        default:
            throw S3Error(.methodNotAllowed, "Unknown admin call \(request.method) \(path).")
        }
    }

    /// A bucket's durability as the admin API shows it: its own, or this gateway's default replication.
    struct DurabilityView: Codable {
        var durability: String
        var isDefault: Bool?
    }

    private func durabilityView(bucket: String) async throws -> DurabilityView {
        if let durability = try await gateway.metadata.bucketDurability(bucket: bucket) {
            return DurabilityView(durability: durability.description, isDefault: false)
        }
        return DurabilityView(durability: BucketDurability.replicas(gateway.cluster.replicaCount).description,
                              isDefault: true)
    }

    /// `default` (nil: the gateway's replication) or a `BucketDurability`; refused (InvalidArgument, with the
    /// reason) when malformed, out of `MetaLimits`, or needing more blob nodes than take writes.
    static func durability(parsing text: String, writableNodes: Int) throws -> BucketDurability? {
        if text == "default" { return nil }
        let durability: BucketDurability
        do {
            durability = try BucketDurability(parsing: text)
        } catch {
            throw S3Error.from(error)
        }
        guard durability.nodeCount <= writableNodes else {
            throw S3Error(.invalidArgument,
                          "\(durability) needs \(durability.nodeCount) blob nodes; this cluster has \(writableNodes) taking writes.")
        }
        return durability
    }

    static func name(_ route: [Substring]) -> String {
        String(route[1]).removingPercentEncoding ?? String(route[1])
    }

    /// The quota target a `users/NAME/...` or `buckets/NAME/...` route names.
    static func target(_ route: [Substring]) -> QuotaTarget {
        let name = String(route[1]).removingPercentEncoding ?? String(route[1])
        return route[0] == "users" ? .user(name) : .bucket(name)
    }

    static func validate(name: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.@"))
        guard !name.isEmpty, name.utf8.count <= 64, name.unicodeScalars.allSatisfy({ allowed.contains($0) && $0.isASCII })
        else {
            throw S3Error(.invalidArgument, "User names are 1 to 64 ASCII letters, digits, '-', '_', '.', '@'.")
        }
    }

    private func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(data.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Access keys and secrets: generation and the shape rules.
public enum Credentials {
    static let accessKeyAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

    /// A new user id: `u:` and 32 random hex digits. `:` is not allowed in user names, so no id is ever
    /// the name (the id of a user from before ids existed) of another user.
    public static func makeUserID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64, low = generator.next() as UInt64
        func hex(_ value: UInt64) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return "u:" + hex(high) + hex(low)
    }

    /// 20 characters, as AWS access key ids: `SK` and 18 random upper-case letters or digits.
    public static func makeAccessKeyID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "SK" + String((0..<18).map { _ in accessKeyAlphabet.randomElement(using: &generator)! })
    }

    /// 40 random base64 characters, as AWS secrets.
    public static func makeSecretAccessKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<40).map { _ in secretAlphabet.randomElement(using: &generator)! })
    }

    /// Access keys: 3 to 128 characters of [A-Za-z0-9]; secrets: 8 to 128 printable ASCII, no spaces.
    public static func validate(accessKeyID: String, secretAccessKey: String) throws(S3Error) {
        guard (3...128).contains(accessKeyID.count),
              accessKeyID.unicodeScalars.allSatisfy({ $0.isASCII && CharacterSet.alphanumerics.contains($0) })
        else {
            throw S3Error(.invalidArgument, "Access keys are 3 to 128 ASCII letters and digits.")
        }
        guard (8...128).contains(secretAccessKey.count),
              secretAccessKey.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f })
        else {
            throw S3Error(.invalidArgument, "Secret keys are 8 to 128 printable ASCII characters without spaces.")
        }
    }
}
