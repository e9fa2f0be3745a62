import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Gateway
import Logging
import ServiceLifecycle
import SiloNode

/// `silo`: one binary for every role. Argument parsing and wiring only.
@main
struct Silo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silo",
        abstract: "Silo: a strongly consistent, S3-compatible object store.",
        subcommands: [Server.self, Meta.self, Blob.self, GatewayCommand.self, Admin.self])
}

/// `silo server`: the embedded all-in-one server.
struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the all-in-one server: S3 gateway, metadata and blob store in one process.")

    @Option(help: "Address to serve S3 on, HOST:PORT (env SILO_ADDRESS).")
    var address: String = ProcessInfo.processInfo.environment["SILO_ADDRESS"] ?? "127.0.0.1:9000"

    @Option(help: "Data directory (env SILO_DATA).")
    var data: String = ProcessInfo.processInfo.environment["SILO_DATA"] ?? "./silo-data"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env SILO_LOG_LEVEL).")
    var logLevel: String = ProcessInfo.processInfo.environment["SILO_LOG_LEVEL"] ?? "info"

    @Option(help: "MiB of free disk kept for deletes and compaction: object writes stop below it (env SILO_RESERVED_SPACE_MB).")
    var reservedSpaceMb: UInt64 = ProcessInfo.processInfo.environment["SILO_RESERVED_SPACE_MB"].flatMap { UInt64($0) } ?? 256

    @Option(help: "MiB at which a volume file is sealed; at most the reserved space (env SILO_VOLUME_SIZE_MB).")
    var volumeSizeMb: UInt64? = ProcessInfo.processInfo.environment["SILO_VOLUME_SIZE_MB"].flatMap { UInt64($0) }

    @Option(help: "HOST:PORT to serve Prometheus metrics on (GET /metrics); off when absent (env SILO_METRICS).")
    var metrics: String? = ProcessInfo.processInfo.environment["SILO_METRICS"]

    @OptionGroup var s3: GatewayFlags

    func run() async throws {
        SiloMetrics.bootstrap()
        // Everything Silo writes (the metadata database with every secret, volumes, credentials) is for
        // its own user only: directories 0700, files 0600.
        umask(0o077)
        try applyStorageFaults()
        let (host, port) = try parseAddress(address)
        var options = EmbeddedServer.Options()
        options.host = host
        options.port = port
        options.dataDirectory = data
        let environment = ProcessInfo.processInfo.environment
        options.rootAccessKeyID = environment["SILO_ROOT_ACCESS_KEY"]
        options.rootSecretAccessKey = environment["SILO_ROOT_SECRET_KEY"]
        options.gateway = s3.configuration
        options.reservedSpaceBytes = reservedSpaceMb << 20
        options.volumeSizeBytes = volumeSizeMb.map { $0 << 20 }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel)")
        }
        var logger = Logger(label: "silo")
        logger.logLevel = level
        let dataPath = data
        var services: [any Service] = []
        if let metrics {
            let address = try peerAddress(metrics, flag: "--metrics")
            services.append(SiloMetrics.endpoint(host: address.host, port: address.port, logger: logger))
        }
        try await EmbeddedServer.run(options, logger: logger, additionalServices: services) { root, generated in
            var lines = ["Silo is serving S3 on \(s3.tlsCert == nil ? "http" : "https")://\(host):\(port) (data: \(dataPath))"]
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

/// The S3 front end's flags, shared by `silo server` and `silo gateway` (and environment variables for scripts).
struct GatewayFlags: ParsableArguments {
    @Option(help: "Domain for virtual-host-style addressing (BUCKET.DOMAIN); repeatable (env SILO_DOMAIN, comma-separated).")
    var domain: [String] = (ProcessInfo.processInfo.environment["SILO_DOMAIN"] ?? "")
        .split(separator: ",").map(String.init)

    @Option(help: "Region reported to clients (env SILO_REGION).")
    var region: String = ProcessInfo.processInfo.environment["SILO_REGION"] ?? "us-east-1"

    @Option(help: "Seconds deleted bytes wait before they are reclaimed, so in-flight GETs finish (env SILO_GARBAGE_GRACE_SECONDS).")
    var garbageGraceSeconds: Int64 = ProcessInfo.processInfo.environment["SILO_GARBAGE_GRACE_SECONDS"].flatMap { Int64($0) } ?? 60

    @Option(help: "MiB of read-ahead all GETs may hold at once; beyond it they read without (env SILO_READ_AHEAD_MB).")
    var readAheadMb: Int = ProcessInfo.processInfo.environment["SILO_READ_AHEAD_MB"].flatMap { Int($0) } ?? 256

    @Option(help: "KiB up to which an object's bytes travel inside its metadata (one fsync per small PUT); 0: off (env SILO_INLINE_BODY_KB).")
    var inlineBodyKb: Int = ProcessInfo.processInfo.environment["SILO_INLINE_BODY_KB"].flatMap { Int($0) } ?? 32

    @Option(help: "PEM certificate chain (leaf first) to serve S3 over TLS with; needs --tls-key (env SILO_TLS_CERT).")
    var tlsCert: String? = ProcessInfo.processInfo.environment["SILO_TLS_CERT"]

    @Option(help: "PEM private key of --tls-cert (env SILO_TLS_KEY).")
    var tlsKey: String? = ProcessInfo.processInfo.environment["SILO_TLS_KEY"]

    @Option(help: "Append one JSON line per S3 request to this file (who, what, status, bytes, time) (env SILO_AUDIT_LOG).")
    var auditLog: String? = ProcessInfo.processInfo.environment["SILO_AUDIT_LOG"]

    @Option(help: "Seconds the lifecycle worker rests between passes; 0: this process does not run it (env SILO_LIFECYCLE_EVERY_SECONDS).")
    var lifecycleEverySeconds: Int = ProcessInfo.processInfo.environment["SILO_LIFECYCLE_EVERY_SECONDS"].flatMap { Int($0) } ?? 60

    @Option(help: "Seconds in a lifecycle day, for tests that cannot wait days (env SILO_LIFECYCLE_DAY_SECONDS).")
    var lifecycleDaySeconds: Int = ProcessInfo.processInfo.environment["SILO_LIFECYCLE_DAY_SECONDS"].flatMap { Int($0) } ?? 86_400

    @OptionGroup var connections: ConnectionOptions

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        guard lifecycleEverySeconds >= 0, (1...86_400).contains(lifecycleDaySeconds) else {
            throw ValidationError("--lifecycle-every-seconds must be 0 or more, --lifecycle-day-seconds 1 to 86400")
        }
    }

    var configuration: GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.region = region
        configuration.virtualHostDomains = domain
        configuration.connections = connections.limits
        configuration.readAheadBytesMax = readAheadMb << 20
        configuration.inlineBodyBytesMax = inlineBodyKb << 10
        configuration.garbageGraceMilliseconds = garbageGraceSeconds * 1000
        configuration.auditLogPath = auditLog
        configuration.lifecycleInterval = lifecycleEverySeconds == 0 ? nil : .seconds(lifecycleEverySeconds)
        configuration.lifecycleDayMilliseconds = Int64(lifecycleDaySeconds) * 1000
        if let tlsCert, let tlsKey {
            configuration.tls = TLSFiles(certificateChainPath: tlsCert, privateKeyPath: tlsKey)
        }
        return configuration
    }
}

/// The HTTP connection limits of `ConnectionLimits`, as flags (and environment variables for scripts).
struct ConnectionOptions: ParsableArguments {
    private static let defaults = ConnectionLimits()
    private static func env(_ name: String) -> Int? { ProcessInfo.processInfo.environment[name].flatMap { Int($0) } }

    @Option(help: "Open client connections at most (env SILO_CONNECTIONS_MAX).")
    var connectionsMax: Int = env("SILO_CONNECTIONS_MAX") ?? defaults.connectionsMax

    @Option(help: "Open connections per source address at most (env SILO_CONNECTIONS_PER_ADDRESS_MAX).")
    var connectionsPerAddressMax: Int = env("SILO_CONNECTIONS_PER_ADDRESS_MAX") ?? defaults.connectionsPerAddressMax

    @Option(help: "Seconds before an idle or header-dripping connection is closed (env SILO_IDLE_TIMEOUT_SECONDS).")
    var idleTimeoutSeconds: Int = env("SILO_IDLE_TIMEOUT_SECONDS") ?? Int(defaults.idleTimeout.nanoseconds / 1_000_000_000)

    @Option(help: "Seconds of waiting for body bytes per rate window (env SILO_BODY_RATE_WINDOW_SECONDS).")
    var bodyRateWindowSeconds: Int = env("SILO_BODY_RATE_WINDOW_SECONDS")
        ?? Int(defaults.bodyRateWindow.nanoseconds / 1_000_000_000)

    @Option(help: "Body bytes each rate window must bring at least (env SILO_BODY_BYTES_PER_WINDOW_MIN).")
    var bodyBytesPerWindowMin: Int = env("SILO_BODY_BYTES_PER_WINDOW_MIN") ?? defaults.bodyBytesPerWindowMin

    @Option(help: "Seconds a response may stay unread before the connection is closed (env SILO_STALLED_WRITE_TIMEOUT_SECONDS).")
    var stalledWriteTimeoutSeconds: Int = env("SILO_STALLED_WRITE_TIMEOUT_SECONDS")
        ?? Int(defaults.stalledWriteTimeout.nanoseconds / 1_000_000_000)

    var limits: ConnectionLimits {
        var limits = ConnectionLimits()
        limits.connectionsMax = connectionsMax
        limits.connectionsPerAddressMax = connectionsPerAddressMax
        limits.idleTimeout = .seconds(Int64(idleTimeoutSeconds))
        limits.bodyRateWindow = .seconds(Int64(bodyRateWindowSeconds))
        limits.bodyBytesPerWindowMin = bodyBytesPerWindowMin
        limits.stalledWriteTimeout = .seconds(Int64(stalledWriteTimeoutSeconds))
        return limits
    }
}
