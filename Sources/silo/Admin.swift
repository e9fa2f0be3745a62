import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import S3Protocol

/// `silo admin`: operator commands against a running server, signed with the root key.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer a running Silo (users, buckets, quotas). Authenticates with the root key.",
        subcommands: [User.self, Bucket.self, ClusterAdmin.self, BlobAdmin.self])
}

/// Where the server is and which root key signs: shared by every admin subcommand.
struct AdminConnection: ParsableArguments {
    @Option(help: "Server URL (env SILO_ENDPOINT).")
    var endpoint: String = ProcessInfo.processInfo.environment["SILO_ENDPOINT"] ?? "http://127.0.0.1:9000"

    @Option(help: "Data directory to read root-credentials from when SILO_ROOT_ACCESS_KEY/SILO_ROOT_SECRET_KEY are not set (env SILO_DATA).")
    var data: String = ProcessInfo.processInfo.environment["SILO_DATA"] ?? "./silo-data"

    @Option(help: "Region the server signs for (env SILO_REGION).")
    var region: String = ProcessInfo.processInfo.environment["SILO_REGION"] ?? "us-east-1"

    func rootKeys() throws -> (String, String) {
        let environment = ProcessInfo.processInfo.environment
        if let accessKey = environment["SILO_ROOT_ACCESS_KEY"], let secret = environment["SILO_ROOT_SECRET_KEY"] {
            return (accessKey, secret)
        }
        let path = URL(fileURLWithPath: data).appendingPathComponent("root-credentials").path
        guard let contents = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: contents) as? [String: String],
              let accessKey = object["accessKeyID"], let secret = object["secretAccessKey"]
        else {
            throw ValidationError("No root key: set SILO_ROOT_ACCESS_KEY and SILO_ROOT_SECRET_KEY, or --data DIR of the server.")
        }
        return (accessKey, secret)
    }

    /// Sends one signed admin request; returns the body, or throws with the server's error message.
    /// `query` is sent as given (already encoded, `name=value&...`) and signed.
    func send(method: String, path: String, query: String = "", body: Data = Data()) async throws -> Data {
        guard let base = URL(string: endpoint), let host = base.host else {
            throw ValidationError("--endpoint must be a URL like http://127.0.0.1:9000")
        }
        let (accessKey, secret) = try rootKeys()
        let hostHeader = base.port.map { "\(host):\($0)" } ?? host
        let encodedPath = S3URIEncoding.encode(path, keepSlash: true)
        let signed = SigV4Signer.sign(
            method: method, rawPath: encodedPath, rawQuery: query, headers: [("host", hostHeader)],
            body: Array(body), accessKeyID: accessKey, secretAccessKey: secret, region: region, service: "s3",
            nowMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        guard let url = URL(string: endpoint.trimmingCharacters(in: ["/"]) + encodedPath + (query.isEmpty ? "" : "?" + query))
        else { throw ValidationError("--endpoint must be a URL like http://127.0.0.1:9000") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in signed where name != "host" { request.setValue(value, forHTTPHeaderField: name) }
        if !body.isEmpty {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "content-type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let text = String(decoding: data, as: UTF8.self)
            let code = text.range(of: "<Code>").flatMap { start in
                text.range(of: "</Code>").map { String(text[start.upperBound..<$0.lowerBound]) }
            }
            let message = text.range(of: "<Message>").flatMap { start in
                text.range(of: "</Message>").map { String(text[start.upperBound..<$0.lowerBound]) }
            }
            throw ValidationError("server answered \(status) \(code ?? ""): \(message ?? text)")
        }
        return data
    }
}

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and delete users (S3 accounts); their usage and quotas.",
        subcommands: [Create.self, List.self, Delete.self, Info.self, Quota.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; prints its access key and secret.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "User name.") var name: String
        @Option(name: .customLong("access-key"), help: "Access key id (default: generated).") var accessKey: String?
        @Option(name: .customLong("secret-key"), help: "Secret access key (default: generated).") var secretKey: String?

        func run() async throws {
            var request: [String: String] = ["name": name]
            request["accessKeyID"] = accessKey
            request["secretAccessKey"] = secretKey
            let body = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])
            let data = try await connection.send(method: "POST", path: "/_silo/admin/users", body: body)
            let user = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            print("name: \(user["name"] ?? name)")
            print("access key: \(user["accessKeyID"] ?? "")")
            print("secret key: \(user["secretAccessKey"] ?? "")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var connection: AdminConnection

        func run() async throws {
            let data = try await connection.send(method: "GET", path: "/_silo/admin/users")
            let users = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
            print("NAME\tACCESS KEY\tROOT\tID")
            for user in users {
                print("\(user["name"] ?? "")\t\(user["accessKeyID"] ?? "")\t\((user["isRoot"] as? Bool) == true ? "yes" : "no")\t\(user["id"] ?? "")")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "User name.") var name: String
        @Flag(help: "Delete the user even if it owns buckets; they pass to the root user.") var force = false

        func run() async throws {
            _ = try await connection.send(method: "DELETE", path: "/_silo/admin/users/\(name)",
                                          query: force ? "force=true" : "")
            print("deleted \(name)")
        }
    }
}

/// The quota flags shared by `user quota` and `bucket quota`: no flag at all removes the quota.
struct QuotaOptions: ParsableArguments {
    @Option(help: "Most bytes stored (objects plus open uploads' parts); suffixes K, M, G, T (powers of 1024).")
    var maxBytes: String?
    @Option(help: "Most objects.")
    var maxObjects: Int64?

    func body() throws -> Data {
        var object: [String: Int64] = [:]
        if let maxBytes { object["bytesMax"] = try Self.bytes(maxBytes) }
        if let maxObjects {
            guard maxObjects >= 0 else { throw ValidationError("--max-objects must not be negative") }
            object["objectsMax"] = maxObjects
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func bytes(_ text: String) throws -> Int64 {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.uppercased())
        var unit: Int64 = 1
        if let last = digits.last, let value = units[last] {
            unit = value
            digits = digits.dropLast()
        }
        guard let number = Int64(digits), number >= 0 else {
            throw ValidationError("--max-bytes must be a number of bytes, like 500G")
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw ValidationError("--max-bytes \(text) is too large") }
        return product
    }
}

/// Prints a usage report (`{"bytes", "objects", "quota": {...}}`) as `silo admin ... info` shows it.
func printUsage(_ data: Data, name: String) throws {
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    let quota = object["quota"] as? [String: Any] ?? [:]
    func limit(_ key: String) -> String { quota[key].map { "\($0)" } ?? "unlimited" }
    print("\(name)\tbytes \(object["bytes"] ?? 0) (quota \(limit("bytesMax")))\tobjects \(object["objects"] ?? 0) (quota \(limit("objectsMax")))")
}

/// Prints `{"durability", "isDefault"}` as `silo admin bucket info` and `bucket durability` show it.
func printDurability(_ data: Data) throws {
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    let isDefault = (object["isDefault"] as? Bool) == true
    print("durability: \(object["durability"] ?? "?")\(isDefault ? " (cluster default)" : "")")
}

extension User {
    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's quota over all its buckets (no limit flag: remove it).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "User name.") var name: String
        @OptionGroup var limits: QuotaOptions

        func run() async throws {
            let data = try await connection.send(method: "PUT", path: "/_silo/admin/users/\(name)/quota",
                                                 body: try limits.body())
            try printUsage(data, name: name)
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what a user stores and its quota.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "User name.") var name: String

        func run() async throws {
            try printUsage(try await connection.send(method: "GET", path: "/_silo/admin/users/\(name)"), name: name)
        }
    }
}

/// `silo admin bucket ...`.
struct Bucket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bucket usage, quotas and durability.", subcommands: [Info.self, Quota.self, Durability.self])

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what a bucket stores, its quota and durability.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "Bucket name.") var name: String

        func run() async throws {
            try printUsage(try await connection.send(method: "GET", path: "/_silo/admin/buckets/\(name)"), name: name)
            try printDurability(try await connection.send(method: "GET", path: "/_silo/admin/buckets/\(name)/durability"))
        }
    }

    struct Durability: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set how a bucket keeps new objects: replicas:N copies, or ec:K+M Reed–Solomon shards.",
            discussion: """
                Objects already written keep the layout they were written with. `default` returns to the \
                cluster's replication. ec:K+M needs K+M blob nodes and survives the loss of any M of them.
                """)
        @OptionGroup var connection: AdminConnection
        @Argument(help: "Bucket name.") var name: String
        @Argument(help: "replicas:N, ec:K+M (for example ec:4+2) or default.") var durability: String

        func validate() throws {
            guard durability == "default" || durability.hasPrefix("replicas:") || durability.hasPrefix("ec:") else {
                throw ValidationError("durability must be replicas:N, ec:K+M (for example ec:4+2) or default")
            }
        }

        func run() async throws {
            let body = try JSONSerialization.data(withJSONObject: ["durability": durability], options: [.sortedKeys])
            try printDurability(try await connection.send(
                method: "PUT", path: "/_silo/admin/buckets/\(name)/durability", body: body))
        }
    }

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a bucket's quota (no limit flag: remove it).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "Bucket name.") var name: String
        @OptionGroup var limits: QuotaOptions

        func run() async throws {
            let data = try await connection.send(method: "PUT", path: "/_silo/admin/buckets/\(name)/quota",
                                                 body: try limits.body())
            try printUsage(data, name: name)
        }
    }
}
