import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Gateway
import RaftKit
import SiloNode

/// `silo gateway`: a stateless S3 gateway of a cluster.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run a stateless S3 gateway in front of metadata replicas (silo meta) and blob nodes (silo blob).")

    @Option(help: "HOST:PORT to serve S3 on.")
    var listen: String = "127.0.0.1:9000"

    @Option(help: "The metadata replicas' RPC addresses: HOST:PORT,HOST:PORT,…")
    var meta: String

    @Option(help: "The blob nodes, a fixed map: ID=HOST:PORT,ID=HOST:PORT,… (absent: follow the cluster map in the metadata, where silo blob --meta registers).")
    var blob: String?

    @Option(help: "Copies of each chunk on distinct blob nodes (default 3, or every node when fewer are listed).")
    var replicas: Int?

    @Option(help: "Failure domains of blob nodes: ID=ZONE,ID=ZONE,… (copies go to distinct zones first).")
    var blobZone: String?

    @Option(help: "Capacity weights of blob nodes: ID=WEIGHT,… (default 1; 0: drain, no new chunks).")
    var blobWeight: String?

    @Option(help: "File holding the cluster secret (else env SILO_CLUSTER_SECRET).")
    var clusterSecretFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["SILO_LOG_LEVEL"] ?? "info"

    @Option(help: "HOST:PORT to serve Prometheus metrics on (GET /metrics); off when absent.")
    var metrics: String?

    @Option(help: "Seconds between passes of the chunk repairer (checks every copy of every chunk, rewrites missing or damaged ones from a good copy); off when absent. One gateway per cluster is enough.")
    var repairEvery: Int?

    @Option(help: "Seconds a blob node must stay unreachable before the repairer rebuilds its copies and erasure-coded shards on other nodes and records the moves; off when absent (a lost node is replaced under its id).")
    var repairReplaceAfter: Int?

    @OptionGroup var s3: GatewayFlags

    /// `ID=VALUE,ID=VALUE` (absent: none).
    static func pairs(_ text: String?, flag: String) throws -> [(UInt32, String)] {
        guard let text, !text.isEmpty else { return [] }
        return try text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let id = UInt32(parts[0]) else {
                throw ValidationError("\(flag) wants ID=VALUE,…, got \(item)")
            }
            return (id, parts[1])
        }
    }

    func run() async throws {
        SiloMetrics.bootstrap()
        let (host, port) = try parseAddress(listen)
        var options = GatewayNode.Options()
        options.host = host
        options.port = port
        options.metaAddresses = try meta.split(separator: ",").map { try peerAddress(String($0), flag: "--meta") }
        for (id, address) in try blob.map(parsePeers) ?? [UInt64: PeerAddress]() {
            guard let nodeID = UInt32(exactly: id) else { throw ValidationError("blob node id \(id) is too large") }
            options.blobNodes[nodeID] = address
        }
        for (id, zone) in try Self.pairs(blobZone, flag: "--blob-zone") {
            guard !zone.isEmpty else { throw ValidationError("--blob-zone \(id) has an empty zone") }
            options.blobZones[id] = zone
        }
        for (id, text) in try Self.pairs(blobWeight, flag: "--blob-weight") {
            guard let weight = Int(text) else { throw ValidationError("--blob-weight \(id)=\(text) is not a whole number") }
            options.blobWeights[id] = weight
        }
        options.clusterSecret = try clusterSecret(file: clusterSecretFile)
        options.replicaCount = replicas
        let environment = ProcessInfo.processInfo.environment
        options.rootAccessKeyID = environment["SILO_ROOT_ACCESS_KEY"]
        options.rootSecretAccessKey = environment["SILO_ROOT_SECRET_KEY"]
        if (options.rootAccessKeyID == nil) != (options.rootSecretAccessKey == nil) {
            throw ValidationError("set both SILO_ROOT_ACCESS_KEY and SILO_ROOT_SECRET_KEY, or neither")
        }
        options.gateway = s3.configuration
        if let repairEvery {
            guard repairEvery >= 1 else { throw ValidationError("--repair-every must be at least 1 second") }
            options.gateway.repairInterval = .seconds(repairEvery)
        }
        if let repairReplaceAfter {
            guard repairEvery != nil else { throw ValidationError("--repair-replace-after needs --repair-every") }
            guard (1...86_400 * 365).contains(repairReplaceAfter) else {
                throw ValidationError("--repair-replace-after must be 1 second to a year")
            }
            options.gateway.repairReplaceAfter = .seconds(repairReplaceAfter)
        }
        options.metricsAddress = try metrics.map { try peerAddress($0, flag: "--metrics") }
        let logger = try makeLogger(logLevel)
        try await GatewayNode.run(options, logger: logger) {
            print("Silo is serving S3 on \(s3.tlsCert == nil ? "http" : "https")://\(host):\(port)")
            fflush(nil)
        }
    }
}
