import BlobContract
import Foundation
import MetaContract

/// Deletes the bytes of chunks that metadata no longer references (replaced, deleted or aborted), once
/// they have waited `graceMilliseconds` so that GETs that started before the unlink can finish.
///
/// Order per step: read a page of garbage from metadata → delete from every node holding a copy →
/// tell metadata to forget exactly the chunks deleted everywhere. A crash in between only repeats work
/// (deletes are idempotent).
struct GarbageCollector: BackgroundWorker {
    /// Garbage entries one step reads and deletes. At most `MetaLimits.garbageChunksPerCallMax`, or a full
    /// page would never look full and the collector would idle with work waiting (checked at start-up).
    static let pageSize = 1000
    let metadata: any MetadataService
    /// The blob cluster, read afresh at each step (the cluster map may change).
    let clusters: BlobClusterSource
    var cluster: BlobCluster { clusters.current }
    let graceMilliseconds: Int64
    var pageSize: Int { Self.pageSize }
    var name: String { "garbage-collector" }
    var idleInterval: Duration { .seconds(5) }

    func step() async throws -> BackgroundStepResult {
        let now = S3Gateway.wallClockMilliseconds()
        let garbage = try await metadata.garbageChunks(limit: pageSize)
        let due = garbage.filter { now - $0.queuedTime >= graceMilliseconds }
        if due.isEmpty { return .idle }
        var byNode: [UInt32: [ChunkID]] = [:]
        for entry in due {
            // A replica under the chunk's id, a shard under its shard id.
            for (node, id) in entry.chunk.storedRecords { byNode[node, default: []].append(id) }
        }
        var failedNodes: Set<UInt32> = []
        for node in byNode.keys.sorted() {
            guard let store = cluster.store(for: node) else {
                failedNodes.insert(node)
                continue
            }
            do {
                try await store.delete(byNode[node]!)
            } catch {
                failedNodes.insert(node)
            }
        }
        let forgotten = due.filter { $0.chunk.nodes.allSatisfy { !failedNodes.contains($0) } }.map(\.chunk.id)
        if !forgotten.isEmpty {
            try await metadata.forgetGarbage(forgotten, commandID: S3Gateway.randomHex(bytes: 16))
        }
        return due.count == garbage.count && garbage.count == pageSize && failedNodes.isEmpty ? .busy : .idle
    }
}

/// Deletes chunks that no metadata has ever referenced and that are older than `ageMilliseconds`: the
/// leftovers of PUTs whose client disconnected or whose gateway crashed before the metadata commit.
///
/// Safe because MetaQuorum refuses to commit a write that started more than half that age ago
/// (`MetaError.requestTooOld`), so no commit can reference a chunk old enough to be swept.
actor OrphanSweeper: BackgroundWorker {
    let metadata: any MetadataService
    /// The blob cluster, read afresh at each step (the cluster map may change).
    let clusters: BlobClusterSource
    var cluster: BlobCluster { clusters.current }
    let ageMilliseconds: Int64
    /// Chunk ids one step lists from a node. At most `ChunkStoreLimits.chunksListedPerCallMax`, or a short page
    /// would end a node's pass early (checked at start-up).
    static let pageSize = 1000
    nonisolated var pageSize: Int { Self.pageSize }
    nonisolated var name: String { "orphan-sweeper" }
    nonisolated var idleInterval: Duration { .seconds(600) }
    /// Where the current pass stands: the node being swept and the last chunk id seen on it.
    private var cursor: (nodeIndex: Int, after: UInt128?) = (0, nil)
    private(set) var sweptCount = 0

    init(metadata: any MetadataService, cluster: BlobClusterSource, ageMilliseconds: Int64) {
        self.metadata = metadata
        self.clusters = cluster
        self.ageMilliseconds = ageMilliseconds
    }

    func step() async throws -> BackgroundStepResult {
        let stores = cluster.allStores
        guard cursor.nodeIndex < stores.count else {
            cursor = (0, nil)
            return .idle
        }
        let (_, store) = stores[cursor.nodeIndex]
        let cutoff = S3Gateway.wallClockMilliseconds() - ageMilliseconds
        let page = try await store.chunks(writtenBeforeTime: cutoff, after: cursor.after, limit: pageSize)
        if !page.isEmpty {
            let referenced = try await metadata.referencedChunks(page)
            let orphans = page.filter { !referenced.contains($0) }
            if !orphans.isEmpty {
                try await store.delete(orphans)
                sweptCount += orphans.count
            }
        }
        if page.count < pageSize {
            cursor = (cursor.nodeIndex + 1, nil)
        } else {
            cursor.after = page.last
        }
        return .busy
    }
}
