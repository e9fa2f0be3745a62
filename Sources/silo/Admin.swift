import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import S3Protocol

/// `silo admin`: operator commands against a running server, signed with the root key.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer a running Silo (users). Authenticates with the root key.",
        subcommands: [User.self])
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
        abstract: "Create, list and delete users (S3 accounts).", subcommands: [Create.self, List.self, Delete.self])

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
