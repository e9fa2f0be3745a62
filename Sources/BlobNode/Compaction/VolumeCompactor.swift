public import BlobContract

/// Reclaims the space of deleted chunks in a local store, one sealed volume per step, while any volume's dead
/// fraction is past the store's threshold (`LocalChunkStore.compact(volumesMax:)`).
///
/// Two ways to drive it: a blob node (`silo blob`) calls `run()` in a task of its own and cancels that task to
/// stop; the Gateway's embedded server steps it from its background runner (`step()` and `idleInterval`).
/// Either way only one loop should compact a store: a concurrent `compact` throws `.unavailable` (harmless,
/// logged, retried after `idleInterval`).
public struct VolumeCompactor: Sendable {
    public let store: LocalChunkStore
    public var name: String { "volume-compactor" }
    /// The pause after a step that found nothing to do. Such a step only looks at the index (no I/O): cheap
    /// enough to check often, so space comes back soon after deletes on a nearly full disk.
    public var idleInterval: Duration { Limits.compactionIdleInterval }

    public init(store: LocalChunkStore) {
        self.store = store
    }

    /// Compacts at most one volume; returns whether more candidates are waiting (step again at once).
    public func compactStep() async throws(BlobError) -> Bool {
        let report = try await self.store.compact(volumesMax: 1)
        return !report.volumesCompacted.isEmpty && report.candidatesRemaining > 0
    }

    /// Steps until the calling task is cancelled: again at once after `Limits.compactionBusyPause` while work
    /// is waiting, after `idleInterval` otherwise. A failed step is logged and retried after `idleInterval`;
    /// a background fault never stops the node.
    public func run() async {
        while !Task.isCancelled {
            var wait = self.idleInterval
            do {
                if try await self.compactStep() { wait = Limits.compactionBusyPause }
            } catch {
                self.store.core.options.logger.warning(
                    "compaction step failed", metadata: ["worker": "\(self.name)", "error": "\(error)"])
            }
            do {
                try await Task.sleep(for: wait)
            } catch {
                return
            }
        }
    }
}
