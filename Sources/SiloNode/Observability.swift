import Foundation
public import Hummingbird
public import Logging
import MetaQuorum
import Metrics
import NIOCore
public import Prometheus
import RaftKit
public import ServiceLifecycle

/// Process-wide metrics: swift-metrics bootstrapped once with a Prometheus registry, served as text on
/// `GET /metrics` of a listener of its own (`--metrics HOST:PORT`), never on the S3 port, where `/metrics`
/// is a bucket name.
///
/// Order: `SiloMetrics.bootstrap()` once, first thing in `main`; `endpoint(host:port:logger:)` is a
/// `Service` run beside the process's others.
public enum SiloMetrics {
    nonisolated(unsafe) private static var registryStorage: PrometheusCollectorRegistry?
    private static let lock = NSLock()

    /// Installs the Prometheus backend (idempotent) and returns its registry.
    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        lock.withLock {
            if let registry = registryStorage { return registry }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            registryStorage = registry
            return registry
        }
    }

    /// The HTTP listener serving `GET /metrics` in the Prometheus text format.
    public static func endpoint(host: String, port: Int, logger: Logger) -> some Service {
        let registry = bootstrap()
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var buffer = ByteBuffer()
            buffer.writeBytes(registry.emitToBuffer())
            var response = Response(status: .ok, body: ResponseBody(byteBuffer: buffer))
            response.headers[.contentType] = "text/plain; version=0.0.4"
            return response
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Silo"),
                           logger: logger)
    }
}

/// Raft timings from the driver, as Prometheus histograms and counters.
struct RaftMetrics: DriverObserver {
    private let append = Timer(label: "silo_raft_wal_append_seconds", dimensions: [("synced", "true")])
    private let appendUnsynced = Timer(label: "silo_raft_wal_append_seconds", dimensions: [("synced", "false")])
    private let apply = Timer(label: "silo_raft_apply_seconds")
    private let appliedEntries = Counter(label: "silo_raft_applied_entries_total")
    private let snapshotChunks = Counter(label: "silo_raft_snapshot_chunks_sent_total")

    func walAppended(records: Int, synced: Bool, duration: Duration) {
        (synced ? append : appendUnsynced).recordNanoseconds(duration.nanoseconds)
    }

    func applied(entries: Int, duration: Duration) {
        apply.recordNanoseconds(duration.nanoseconds)
        appliedEntries.increment(by: entries)
    }

    func snapshotChunkSent() {
        snapshotChunks.increment()
    }
}

/// Polls a replica's Raft status once a second into gauges (term, leader, role, commit and applied index)
/// and counts leader changes.
struct RaftStatusPoller<Machine: ReplicatedStateMachine>: Service {
    let driver: RaftDriver<Machine>

    func run() async throws {
        let term = Gauge(label: "silo_raft_term")
        let isLeader = Gauge(label: "silo_raft_is_leader")
        let leader = Gauge(label: "silo_raft_leader_id")
        let commit = Gauge(label: "silo_raft_commit_index")
        let applied = Gauge(label: "silo_raft_applied_index")
        let leaderChanges = Counter(label: "silo_raft_leader_changes_total")
        var lastLeader: UInt64?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let status = await driver.status
            term.record(Int64(clamping: status.term))
            isLeader.record(status.role == .leader ? 1 : 0)
            leader.record(Int64(clamping: status.leaderID))
            commit.record(Int64(clamping: status.commitIndex))
            applied.record(Int64(clamping: status.appliedIndex))
            if let previous = lastLeader, previous != status.leaderID, status.leaderID != 0 { leaderChanges.increment() }
            if status.leaderID != 0 { lastLeader = status.leaderID }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
