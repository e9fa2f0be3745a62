import ArgumentParser
import BlobNode
import ClusterAuth
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MetaQuorum
import NIOCore
import NIOPosix
import RaftKit
import ServiceLifecycle
import SiloNode

/// `silo blob`: one blob node. Opens a volume store in each `--data` directory (several: one per disk,
/// chunks spread by `MultiDiskChunkStore`), serves them over the chunk protocol (`BlobServer`) on `--listen`,
/// compacts each in the background, and stops on SIGTERM or SIGINT.
///
/// With `--meta`, the node also joins the cluster map (`BlobMapMembership`): it registers at `--advertise`
/// with its `--zone` and `--weight`, then sends the metadata leader heartbeats; without it, nothing talks to
/// the metadata (gateways then name the node in their `--blob` list).
///
/// Start-up order: read the cluster secret → open the stores → listen → print
/// `silo blob N serving on HOST:PORT` (the bound port, also with port 0) → serve (and register); on a signal:
/// stop listening and close connections, stop compaction and heartbeats, close the store (queued writes
/// finish first).
struct Blob: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a blob node: a volume store served to gateways over the chunk protocol.",
        discussion: """
            The cluster secret (at least 16 bytes) comes from --cluster-secret-file (the file's contents, \
            trimmed) or from the environment variable SILO_CLUSTER_SECRET; one of them is required.
            """)

    @Option(help: "This node's id, the id the ring places chunks on.")
    var id: UInt32

    @Option(help: "Data directory of the volume files (created 0700 if missing); repeat it, or give DIR,DIR,…, for one per disk.")
    var data: [String]

    @Option(help: "Address to serve the chunk protocol on, HOST:PORT (port 0: any free port, printed).")
    var listen: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "MiB of free disk kept for deletes and compaction: chunk writes stop below it.")
    var reservedSpaceMb: UInt64 = 256

    @Option(help: "MiB at which a volume file is sealed; at most the reserved space (default: the store's).")
    var volumeSizeMb: UInt64?

    @Option(help: "A file whose trimmed contents are the cluster secret (else env SILO_CLUSTER_SECRET).")
    var clusterSecretFile: String?

    @Option(help: "HOST:PORT to serve Prometheus metrics on (GET /metrics); off when absent.")
    var metrics: String?

    @Option(help: "Metadata replicas' RPC addresses, HOST:PORT,…: register in the cluster map and send heartbeats (off when absent).")
    var meta: String?

    @Option(help: "With --meta: the HOST:PORT gateways reach this node's chunk protocol at.")
    var advertise: String?

    @Option(help: "With --meta: this node's failure domain (rack, room); copies go to distinct zones first.")
    var zone: String?

    @Option(help: "With --meta: ring weight (default 1; 0: no new chunks).")
    var weight: Int?

    func run() async throws {
        SiloMetrics.bootstrap()
        try checkBlobDiskFaults()
        // Volumes are for this user only: directories 0700, files 0600 (as `silo server`).
        umask(0o077)
        let (host, port) = try Self.parseListen(listen)
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level \(logLevel)")
        }
        var logger = Logger(label: "silo.blob")
        logger.logLevel = level
        let secret = try clusterSecret(file: clusterSecretFile, logger: logger)
        let mapRegistration = try mapRegistration()
        guard reservedSpaceMb <= UInt64.max >> 20, (volumeSizeMb ?? 0) <= UInt64.max >> 20 else {
            throw ValidationError("--reserved-space-mb and --volume-size-mb are too large")
        }

        var options = LocalChunkStore.Options()
        options.logger = logger
        options.freeSpaceFloorBytes = reservedSpaceMb << 20
        if let volumeSizeMb { options.volumeSizeBytesMax = volumeSizeMb << 20 }
        if options.volumeSizeBytesMax > options.freeSpaceFloorBytes {
            logger.warning("volumes are larger than the reserved free space: a full disk may not compact",
                           metadata: ["volumeBytes": "\(options.volumeSizeBytesMax)",
                                      "reservedBytes": "\(options.freeSpaceFloorBytes)"])
        }
        let directories = data.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        guard !directories.isEmpty else { throw ValidationError("--data needs at least one directory") }
        guard Set(directories).count == directories.count else {
            throw ValidationError("--data lists a directory twice")
        }
        var opened: [LocalChunkStore] = []
        for directory in directories {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                opened.append(try await LocalChunkStore.open(directory: directory, options: options))
            } catch {
                for store in opened { await store.close() }
                throw BlobStartError("cannot open the blob store in \(directory): \(error)")
            }
        }
        let store = MultiDiskChunkStore(stores: opened)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = BlobServer(store: store, nodeID: id, secret: secret, group: group, logger: logger) {
            () throws(BlobError) in
            (try store.freeSpaceBytes(), store.liveChunkCount)
        }
        let membership = mapRegistration.map { addresses, registration in
            BlobMapMembership(metaAddresses: addresses, secret: secret, registration: registration, logger: logger) {
                let capacity = Self.capacityBytes(directories: directories)
                guard let free = try? store.freeSpaceBytes() else { return (capacity, 0, false) }
                return (capacity, free, true)
            }
        }
        let serving = BlobServing(server: server, host: host, port: port, nodeID: id)
        let compaction = BlobCompaction(compactors: opened.map { VolumeCompactor(store: $0) })
        var configurations: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: serving),
            .init(service: compaction, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
        ]
        if let membership {
            configurations.append(.init(service: membership, successTerminationBehavior: .ignore,
                                        failureTerminationBehavior: .ignore))
        }
        if let metrics {
            let address = try peerAddress(metrics, flag: "--metrics")
            configurations.append(.init(service: SiloMetrics.endpoint(host: address.host, port: address.port, logger: logger)))
        }
        let services = ServiceGroup(configuration: .init(
            services: configurations,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch {
            await server.stop()
            await store.close()
            try? await group.shutdownGracefully()
            throw error
        }
        await store.close()
        try await group.shutdownGracefully()
        logger.info("blob node stopped", metadata: ["node": "\(id)"])
    }

    /// Where and how `--meta` asks this node to register in the cluster map (nil without it); checks the
    /// flags that go with it, before anything is opened.
    func mapRegistration() throws -> (addresses: [PeerAddress], registration: BlobNodeRegistration)? {
        guard let meta else {
            guard advertise == nil, zone == nil, weight == nil else {
                throw ValidationError("--advertise, --zone and --weight go with --meta")
            }
            return nil
        }
        let addresses = try meta.split(separator: ",").map { try peerAddress(String($0), flag: "--meta") }
        guard !addresses.isEmpty else { throw ValidationError("--meta lists no metadata replica") }
        guard let advertise else { throw ValidationError("--meta needs --advertise HOST:PORT") }
        let advertised = try peerAddress(advertise, flag: "--advertise")
        guard advertised.port != 0, !["0.0.0.0", "::", ""].contains(advertised.host) else {
            throw ValidationError("--advertise must be an address gateways can reach, got \(advertise)")
        }
        if let zone, zone.isEmpty { throw ValidationError("--zone is empty") }
        let weight = self.weight ?? 1
        guard (0...BlobMapLimits.weightMax).contains(weight) else {
            throw ValidationError("--weight must be 0...\(BlobMapLimits.weightMax)")
        }
        let registration = BlobNodeRegistration(id: id, address: advertised.description, zone: zone, weight: weight,
                                                capacityBytes: 0)
        return (addresses, registration)
    }

    /// The total bytes of the filesystems holding `directories`, each filesystem counted once.
    static func capacityBytes(directories: [String]) -> UInt64 {
        var seen = Set<UInt>()
        var total: UInt64 = 0
        for directory in directories {
            var info = statvfs()
            guard statvfs(directory, &info) == 0, seen.insert(UInt(info.f_fsid)).inserted else { continue }
            total += UInt64(info.f_blocks) * UInt64(info.f_frsize)
        }
        return total
    }

    /// HOST:PORT (IPv6 hosts in brackets); an empty host is 127.0.0.1.
    static func parseListen(_ text: String) throws -> (String, Int) {
        do {
            return try parseAddress(text)
        } catch {
            throw ValidationError("--listen must be HOST:PORT, got \(text)")
        }
    }

}

/// A start-up failure with a message for the operator.
struct BlobStartError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Listens, announces the bound address on stdout, serves until graceful shutdown, then stops the server.
struct BlobServing: Service {
    let server: BlobServer
    let host: String
    let port: Int
    let nodeID: UInt32

    func run() async throws {
        let bound: Int
        do {
            bound = try await server.start(host: host, port: port)
        } catch {
            throw BlobStartError("\(error)")
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        print("silo blob \(nodeID) serving on \(shownHost):\(bound)")
        fflush(nil)
        // Returns when SIGTERM or SIGINT starts the graceful shutdown (or throws if the task is cancelled).
        try? await gracefulShutdown()
        await server.stop()
    }
}

/// The store's compaction loop for the lifetime of the node.
struct BlobCompaction: Service {
    let compactors: [VolumeCompactor]

    func run() async throws {
        // Graceful shutdown cancels the loops, which wakes them from their sleeps.
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for compactor in compactors { group.addTask { await compactor.run() } }
            }
        }
    }
}
