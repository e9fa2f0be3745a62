import ClusterAuth
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Gateway
import Logging
import RaftKit
import SiloNode

/// `silo meta`: one metadata replica of a RaftKit group.
struct Meta: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a metadata replica (one voter of a 3- or 5-node RaftKit group, or a joining learner).")

    @Option(help: "This replica's node id (nonzero, unique in the group).")
    var id: UInt64

    @Option(help: "Data directory (meta.sqlite and raft/).")
    var data: String

    @Option(help: "HOST:PORT to serve Raft on; must match this node's entry in --peers.")
    var raft: String

    @Option(help: "HOST:PORT to serve the metadata RPC to gateways on.")
    var api: String

    @Option(help: "The initial voters' Raft addresses: ID=HOST:PORT,ID=HOST:PORT,… (this node included); with --join, the running group's.")
    var peers: String = ""

    @Flag(help: "Join a running group as a learner (the leader must first run `silo admin cluster add-learner`).")
    var join = false

    @Option(help: "File holding the cluster secret (else env SILO_CLUSTER_SECRET).")
    var clusterSecretFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["SILO_LOG_LEVEL"] ?? "info"

    @Option(help: "HOST:PORT to serve Prometheus metrics on (GET /metrics); off when absent.")
    var metrics: String?

    func run() async throws {
        umask(0o077)
        try applyStorageFaults()
        SiloMetrics.bootstrap()
        var options = MetaNode.Options()
        options.metricsAddress = try metrics.map { try peerAddress($0, flag: "--metrics") }
        options.id = id
        options.dataDirectory = data
        options.raftAddress = try peerAddress(raft, flag: "--raft")
        options.apiAddress = try peerAddress(api, flag: "--api")
        options.peers = try parsePeers(peers)
        options.join = join
        options.clusterSecret = try clusterSecret(file: clusterSecretFile)
        if options.peers.isEmpty { throw ValidationError("--peers is required (with --join: the running group's members)") }
        let logger = try makeLogger(logLevel)
        let id = self.id
        try await MetaNode.run(options, logger: logger) { raftPort, apiPort in
            print("silo meta \(id) ready (raft port \(raftPort), api port \(apiPort))")
            fflush(nil)
        }
    }
}

func peerAddress(_ text: String, flag: String) throws -> PeerAddress {
    guard let address = PeerAddress(parsing: text) else { throw ValidationError("\(flag) must be HOST:PORT, got \(text)") }
    return address
}

/// `1=host:port,2=host:port` → ids to addresses.
func parsePeers(_ text: String) throws -> [UInt64: PeerAddress] {
    var peers: [UInt64: PeerAddress] = [:]
    for item in text.split(separator: ",") where !item.isEmpty {
        let parts = item.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let id = UInt64(parts[0]), id != 0, let address = PeerAddress(parsing: String(parts[1]))
        else { throw ValidationError("a peer must be ID=HOST:PORT with a nonzero id, got \(item)") }
        guard peers[id] == nil else { throw ValidationError("peer id \(id) listed twice") }
        peers[id] = address
    }
    return peers
}

/// The cluster secret's text: the file's trimmed contents (warning when others may read it), else
/// `SILO_CLUSTER_SECRET`. At least 16 bytes (checked by the caller's secret type).
func clusterSecretText(file: String?, logger: Logger? = nil) throws -> String {
    if let file {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read --cluster-secret-file \(file)")
        }
        var info = stat()
        if stat(file, &info) == 0, info.st_mode & 0o077 != 0 {
            logger?.warning("the cluster secret file is readable by other users", metadata: ["file": "\(file)"])
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    if let environment = ProcessInfo.processInfo.environment["SILO_CLUSTER_SECRET"] { return environment }
    throw ValidationError("a cluster secret is required: set SILO_CLUSTER_SECRET or pass --cluster-secret-file")
}

/// The cluster secret every role uses (metadata RPC, chunk protocol, Raft frames).
func clusterSecret(file: String?, logger: Logger? = nil) throws -> ClusterSecret {
    let text = try clusterSecretText(file: file, logger: logger)
    do {
        return try ClusterSecret(text)
    } catch {
        throw ValidationError(error.description)
    }
}

func makeLogger(_ level: String) throws -> Logger {
    guard let parsed = Logger.Level(rawValue: level) else { throw ValidationError("unknown log level \(level)") }
    var logger = Logger(label: "silo")
    logger.logLevel = parsed
    return logger
}
