import Logging
public import ServiceLifecycle

/// A background loop (garbage collection, orphan sweeping, volume compaction, later scrub and repair):
/// one step at a time. There is no status an operator can read yet, and the only pacing is the runner's
/// 1 ms pause between busy steps (a worker that must go slower, like compaction, paces itself).
///
/// `step()` does a bounded amount of work and says whether more is waiting; the runner calls it again at
/// once while it is `.busy`, and after `idleInterval` when it is `.idle`. A step that throws is logged
/// and retried after `idleInterval`: a background fault never stops the server.
protocol BackgroundWorker: Sendable {
    var name: String { get }
    var idleInterval: Duration { get }
    func step() async throws -> BackgroundStepResult
}

enum BackgroundStepResult: Sendable {
    case busy
    case idle
}

/// Runs background workers for the lifetime of the server (a swift-service-lifecycle `Service`).
public struct BackgroundRunner: Service {
    let workers: [any BackgroundWorker]
    let logger: Logger

    init(workers: [any BackgroundWorker], logger: Logger) {
        self.workers = workers
        self.logger = logger
    }

    public func run() async throws {
        // Graceful shutdown cancels the loops, which wakes them from their sleeps.
        try await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for worker in workers {
                    group.addTask { await runLoop(worker) }
                }
            }
        }
    }

    private func runLoop(_ worker: any BackgroundWorker) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = worker.idleInterval
            do {
                if try await worker.step() == .busy { wait = .milliseconds(1) }
            } catch {
                logger.warning("background step failed", metadata: ["worker": "\(worker.name)", "error": "\(error)"])
            }
            do {
                try await Task.sleep(for: wait)
            } catch {
                return
            }
        }
    }
}
