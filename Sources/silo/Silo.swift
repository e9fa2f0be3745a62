import ArgumentParser
import Foundation
import Gateway
import Logging

/// `silo`: one binary for every role. Argument parsing and wiring only.
@main
struct Silo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silo",
        abstract: "Silo: a strongly consistent, S3-compatible object store.",
        subcommands: [Server.self, Admin.self])
}

/// `silo server`: the embedded all-in-one server.
struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the all-in-one server: S3 gateway, metadata and blob store in one process.")

    @Option(help: "Address to serve S3 on, HOST:PORT (env SILO_ADDRESS).")
    var address: String = ProcessInfo.processInfo.environment["SILO_ADDRESS"] ?? "127.0.0.1:9000"

    @Option(help: "Data directory (env SILO_DATA).")
    var data: String = ProcessInfo.processInfo.environment["SILO_DATA"] ?? "./silo-data"

    @Option(help: "Domain for virtual-host-style addressing (BUCKET.DOMAIN); repeatable (env SILO_DOMAIN, comma-separated).")
    var domain: [String] = (ProcessInfo.processInfo.environment["SILO_DOMAIN"] ?? "")
        .split(separator: ",").map(String.init)

    @Option(help: "Region reported to clients (env SILO_REGION).")
    var region: String = ProcessInfo.processInfo.environment["SILO_REGION"] ?? "us-east-1"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env SILO_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["SILO_LOG_LEVEL"] ?? "info"

    func run() async throws {
        let (host, port) = try parseAddress(address)
        var options = EmbeddedServer.Options()
        options.host = host
        options.port = port
        options.dataDirectory = data
        let environment = ProcessInfo.processInfo.environment
        options.rootAccessKeyID = environment["SILO_ROOT_ACCESS_KEY"]
        options.rootSecretAccessKey = environment["SILO_ROOT_SECRET_KEY"]
        options.gateway.region = region
        options.gateway.virtualHostDomains = domain
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel)")
        }
        var logger = Logger(label: "silo")
        logger.logLevel = level
        let dataPath = data
        try await EmbeddedServer.run(options, logger: logger) { root, generated in
            var lines = ["Silo is serving S3 on http://\(host):\(port) (data: \(dataPath))"]
            if generated {
                // The only time the secret is printed: it was just made, and the operator needs it once.
                lines.append("Generated root credentials (stored in \(dataPath)/root-credentials, mode 0600):")
                lines.append("  AWS_ACCESS_KEY_ID=\(root.accessKeyID)")
                lines.append("  AWS_SECRET_ACCESS_KEY=\(root.secretAccessKey)")
            } else {
                lines.append("Root access key: \(root.accessKeyID) (secret from SILO_ROOT_SECRET_KEY or \(dataPath)/root-credentials)")
            }
            print(lines.joined(separator: "\n"))
            fflush(nil)
        }
    }
}

func parseAddress(_ address: String) throws -> (String, Int) {
    guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
          (0...65535).contains(port)
    else {
        throw ValidationError("--address must be HOST:PORT, got \(address)")
    }
    var host = String(address[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host.isEmpty ? "127.0.0.1" : host, port)
}
