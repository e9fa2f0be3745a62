import Synchronization

/// A background loop of a storage node (compaction now; scrub, garbage collection and repair later) with a
/// status the admin CLI can show. `run()` loops until its task is cancelled; `status()` may be called at any
/// time from any task.
public protocol BackgroundWorker: Sendable {
    /// A stable name for status listings, such as "compaction".
    var name: String { get }
    /// What the worker is doing and what its last pass did.
    func status() -> BackgroundWorkerStatus
    /// Runs passes until the calling task is cancelled, pausing between passes.
    func run() async
}

/// The observable state of a `BackgroundWorker`.
public struct BackgroundWorkerStatus: Sendable, Equatable {
    public enum Activity: Sendable, Equatable {
        case idle
        case working
        case stopped
    }

    public var activity: Activity = .idle
    /// Passes finished since `run()` started (with or without an error).
    public var passCount = 0
    /// A one-line summary of the last pass.
    public var lastPassSummary: String?
    /// The error of the last pass, if it failed.
    public var lastError: String?

    public init() {}
}

/// Runs `LocalChunkStore.compact()` every `interval` (the byte-rate throttle is the store's
/// `Options.compactionBytesPerSecondMax`). The caller owns the task: cancel it to stop the worker.
public final class CompactionWorker: BackgroundWorker {
    public let name = "compaction"
    private let store: LocalChunkStore
    private let interval: Duration
    private let current = Mutex(BackgroundWorkerStatus())

    public init(store: LocalChunkStore, interval: Duration) {
        self.store = store
        self.interval = interval
    }

    public func status() -> BackgroundWorkerStatus { self.current.withLock { $0 } }

    public func run() async {
        while !Task.isCancelled {
            self.current.withLock { $0.activity = .working }
            var summary: String?
            var failure: String?
            do {
                let report = try await self.store.compact()
                summary = "compacted \(report.volumesCompacted.count) volumes, copied \(report.recordsCopied) records "
                    + "(\(report.bytesCopied) bytes), reclaimed \(report.bytesReclaimed) bytes"
            } catch {
                failure = "\(error)"
            }
            self.current.withLock { status in
                status.activity = .idle
                status.passCount += 1
                status.lastPassSummary = summary ?? status.lastPassSummary
                status.lastError = failure
            }
            try? await Task.sleep(for: self.interval)
        }
        self.current.withLock { $0.activity = .stopped }
    }
}
