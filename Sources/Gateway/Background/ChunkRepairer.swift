import BlobContract
import Erasure
import Logging
import MetaContract
import Metrics
import NIOCore

/// Scrub and repair: walks every live chunk the metadata names (`MetadataService.chunkPlacements`, a page
/// per step) and checks each copy on the nodes recorded for it. A copy a reachable node does not have
/// (`chunkNotFound`: a wiped or replaced disk) or holds damaged (`checksumMismatch`) is rewritten from a
/// good copy on another recorded node. A node that does not answer is left alone: its copies are counted
/// as unreachable, not lost (it may come back; moving copies to other nodes needs the cluster map).
///
/// The probe is a zero-length read, which makes the node read and checksum the whole record, so a pass is
/// also a scrub of every copy. Safe beside the garbage collector: a chunk unlinked after its page was read
/// is deleted only after `GatewayConfiguration.garbageGraceMilliseconds` (minutes), far longer than a step;
/// a copy rewritten after that would be an unreferenced chunk, which the orphan sweeper removes.
///
/// An erasure-coded chunk is checked shard by shard, and its missing or damaged shards are rebuilt from any
/// k good ones (`checkStripe`). With `replaceAfter`, a shard whose node has not answered any probe for that
/// long is rebuilt on another node (the next of the chunk's ring order that holds none of its shards) and the
/// move recorded in metadata (`relocateChunk`), so redundancy returns without the node; a replicated copy
/// on such a node is copied from a good one the same way.
///
/// Runs on the gateways given `--repair-every` (one per cluster is enough: passes are idempotent).
actor ChunkRepairer: BackgroundWorker {
    /// Object and part records one step reads.
    static let pageSize = 200
    nonisolated let name = "chunk-repairer"
    nonisolated let idleInterval: Duration
    let metadata: any MetadataService
    /// The blob cluster, read afresh at each use (the cluster map may change).
    let clusters: BlobClusterSource
    var cluster: BlobCluster { clusters.current }
    let logger: Logger
    /// How long a node must fail every probe before its copies and shards are rebuilt elsewhere; nil: never.
    let replaceAfter: Duration?
    /// When each node that fails its probes first failed one (cleared by any answer).
    private var unreachableSince: [UInt32: ContinuousClock.Instant] = [:]
    private var position: ChunkScanPosition?
    private var pass = Tally()
    /// The counts of the last complete pass.
    private(set) var lastPass: Tally?

    /// What one pass found, by copy (a chunk with three recorded nodes is three copies).
    struct Tally: Sendable, Equatable {
        var good = 0
        var repaired = 0
        /// Missing or damaged copies with no good copy reachable to repair them from.
        var unrepairable = 0
        var unreachable = 0
        /// Copies and shards rebuilt on another node because theirs stayed unreachable past `replaceAfter`.
        var relocated = 0
    }

    init(metadata: any MetadataService, cluster: BlobClusterSource, interval: Duration, replaceAfter: Duration? = nil,
         logger: Logger) {
        self.metadata = metadata
        self.clusters = cluster
        self.idleInterval = interval
        self.replaceAfter = replaceAfter
        self.logger = logger
    }

    func step() async throws -> BackgroundStepResult {
        let page = try await metadata.locatedChunkPlacements(after: position, limit: Self.pageSize)
        for (index, chunk) in page.chunks.enumerated() {
            await check(chunk, record: page.records.isEmpty ? nil : page.records[index])
        }
        position = page.next
        if position == nil {
            lastPass = pass
            logger.info("repair pass complete", metadata: [
                "good": "\(pass.good)", "repaired": "\(pass.repaired)", "unrepairable": "\(pass.unrepairable)",
                "unreachable": "\(pass.unreachable)", "relocated": "\(pass.relocated)",
            ])
            pass = Tally()
            return .idle
        }
        return .busy
    }

    private enum CopyState { case good, missing, damaged, unreachable }

    private func check(_ chunk: ChunkRef, record: ChunkScanPosition?) async {
        if case .erasure(let stripe) = chunk.layout { return await checkStripe(chunk, stripe, record: record) }
        var states: [(node: UInt32, state: CopyState)] = []
        for node in chunk.nodes { states.append((node, await probe(chunk.id, on: node))) }
        let bad = states.filter { $0.state == .missing || $0.state == .damaged }
        let gone = record == nil ? [] : states.filter { $0.state == .unreachable && isGone($0.node) }.map(\.node)
        pass.good += states.count { $0.state == .good }
        pass.unreachable += states.count { $0.state == .unreachable } - gone.count
        guard !bad.isEmpty || !gone.isEmpty else { return }
        var bytes: ByteBuffer?
        for source in states where source.state == .good {
            if let store = cluster.store(for: source.node),
               let read = try? await store.read(chunk.id, offset: 0, length: Int(chunk.sizeBytes)) {
                bytes = read
                break
            }
        }
        guard let bytes else {
            pass.unrepairable += bad.count
            pass.unreachable += gone.count
            logger.error("chunk has no good copy to repair from", metadata: [
                "chunk": "\(String(chunk.id, radix: 16))", "nodes": "\(chunk.nodes)"])
            Counter(label: "silo_repair_copies_total", dimensions: [("outcome", "unrepairable")]).increment(by: bad.count)
            return
        }
        // Copies on a node gone past `replaceAfter`: copied to another node and the move recorded.
        var taken = Set(chunk.nodes)
        for node in gone {
            guard let record, await relocate(chunk, from: node, id: chunk.id, bytes: bytes, record: record, taken: &taken)
            else {
                pass.unreachable += 1
                continue
            }
        }
        for target in bad {
            guard let store = cluster.store(for: target.node) else { continue }
            do {
                // A damaged copy is refused as a conflicting rewrite until it is gone.
                if target.state == .damaged { try await store.delete([chunk.id]) }
                try await store.write(chunk.id, bytes)
                pass.repaired += 1
                Counter(label: "silo_repair_copies_total", dimensions: [("outcome", "repaired")]).increment()
                logger.notice("chunk copy repaired", metadata: [
                    "chunk": "\(String(chunk.id, radix: 16))", "node": "\(target.node)",
                    "was": "\(target.state == .missing ? "missing" : "damaged")"])
            } catch {
                pass.unreachable += 1
                logger.warning("chunk copy repair failed", metadata: [
                    "chunk": "\(String(chunk.id, radix: 16))", "node": "\(target.node)", "error": "\(error)"])
            }
        }
    }

    /// An erasure-coded chunk: each shard is probed on its node; missing or damaged shards are rebuilt
    /// from any k good ones (each read whole and checked against its recorded CRC-32) and rewritten to the
    /// node recorded for them. Counted by shard, as copies are.
    private func checkStripe(_ chunk: ChunkRef, _ stripe: ErasureStripe, record: ChunkScanPosition?) async {
        // Shard ids precomputed (see `StripeReader.shardIDs`).
        let shardIDs = chunk.storedRecords.map(\.id)
        var states: [CopyState] = []
        for (index, node) in chunk.nodes.enumerated() {
            states.append(await probe(shardIDs[index], on: node))
        }
        let gone = record == nil ? [] : states.indices.filter { states[$0] == .unreachable && isGone(chunk.nodes[$0]) }
        guard states.contains(where: { $0 == .missing || $0 == .damaged }) || !gone.isEmpty else {
            pass.good += states.count { $0 == .good }
            pass.unreachable += states.count { $0 == .unreachable }
            return
        }
        var shards = [ByteBuffer?](repeating: nil, count: stripe.shardCount)
        for index in states.indices where states[index] == .good {
            guard shards.count(where: { $0 != nil }) < stripe.dataShardCount else { break }
            guard let store = cluster.store(for: chunk.nodes[index]),
                  let shard = try? await store.read(shardIDs[index], offset: 0, length: stripe.shardSizeBytes)
            else { continue }
            if ReedSolomon.shardChecksum(shard) == stripe.shardChecksums[index] {
                shards[index] = shard
            } else {
                states[index] = .damaged
            }
        }
        let bad = states.indices.filter { states[$0] == .missing || states[$0] == .damaged }
        pass.good += states.count { $0 == .good }
        pass.unreachable += states.count { $0 == .unreachable } - gone.count
        let rebuilt: [ByteBuffer]
        do {
            let coder = try ReedSolomon(dataShardCount: stripe.dataShardCount, parityShardCount: stripe.parityShardCount)
            rebuilt = try coder.reconstruct(shards, indexes: bad + gone)
        } catch {
            pass.unreachable += gone.count
            pass.unrepairable += bad.count
            logger.error("erasure-coded chunk has too few good shards to rebuild from", metadata: [
                "chunk": "\(String(chunk.id, radix: 16))", "nodes": "\(chunk.nodes)", "error": "\(error)"])
            Counter(label: "silo_repair_copies_total", dimensions: [("outcome", "unrepairable")]).increment(by: bad.count)
            return
        }
        var taken = Set(chunk.nodes)
        for (position, index) in gone.enumerated() {
            let shard = rebuilt[bad.count + position]
            guard let record, ReedSolomon.shardChecksum(shard) == stripe.shardChecksums[index],
                  await relocate(chunk, from: chunk.nodes[index], id: shardIDs[index], bytes: shard, record: record,
                                 taken: &taken)
            else {
                pass.unreachable += 1
                continue
            }
        }
        for (position, index) in bad.enumerated() {
            let node = chunk.nodes[index]
            guard ReedSolomon.shardChecksum(rebuilt[position]) == stripe.shardChecksums[index] else {
                // Never written: a shard that fails its recorded checksum would only be refused by readers.
                pass.unrepairable += 1
                logger.error("rebuilt erasure shard does not match its recorded checksum", metadata: [
                    "chunk": "\(String(chunk.id, radix: 16))", "shard": "\(index)", "node": "\(node)"])
                continue
            }
            let shardID = shardIDs[index]
            guard let store = cluster.store(for: node) else { continue }
            do {
                if states[index] == .damaged { try await store.delete([shardID]) }
                try await store.write(shardID, rebuilt[position])
                pass.repaired += 1
                Counter(label: "silo_repair_copies_total", dimensions: [("outcome", "repaired")]).increment()
                logger.notice("erasure shard rebuilt", metadata: [
                    "chunk": "\(String(chunk.id, radix: 16))", "shard": "\(index)", "node": "\(node)",
                    "was": "\(states[index] == .missing ? "missing" : "damaged")"])
            } catch {
                pass.unreachable += 1
                logger.warning("erasure shard repair failed", metadata: [
                    "chunk": "\(String(chunk.id, radix: 16))", "shard": "\(index)", "node": "\(node)",
                    "error": "\(error)"])
            }
        }
    }

    /// Writes a rebuilt shard (or a copy) to the first node of the chunk's ring order not in `taken` that
    /// takes it, then records the move; true when both happened. A refusal of the move (the record was
    /// replaced or changed meanwhile) deletes the written bytes again; after an unknown outcome they stay
    /// (the move may have been recorded).
    private func relocate(_ chunk: ChunkRef, from: UInt32, id: ChunkID, bytes: ByteBuffer,
                          record: ChunkScanPosition, taken: inout Set<UInt32>) async -> Bool {
        for candidate in cluster.preference(chunk.id) where !taken.contains(candidate) && !isGone(candidate) {
            guard let store = cluster.store(for: candidate) else { continue }
            do {
                try await store.write(id, bytes)
            } catch {
                continue
            }
            do {
                try await metadata.relocateChunk(record: record, chunkID: chunk.id, from: from, to: candidate,
                                                 commandID: S3Gateway.randomHex(bytes: 16))
            } catch {
                if error.isDefiniteRefusal { try? await store.delete([id]) }
                logger.warning("copy or shard rebuilt elsewhere but the move not recorded", metadata: [
                    "chunk": "\(String(chunk.id, radix: 16))", "from": "\(from)", "to": "\(candidate)",
                    "error": "\(error)"])
                return false
            }
            taken.insert(candidate)
            pass.relocated += 1
            Counter(label: "silo_repair_copies_total", dimensions: [("outcome", "relocated")]).increment()
            logger.notice("copy or shard rebuilt on another node", metadata: [
                "chunk": "\(String(chunk.id, radix: 16))", "from": "\(from)", "to": "\(candidate)"])
            return true
        }
        return false
    }

    /// Whether `node` has failed every probe for at least `replaceAfter`.
    private func isGone(_ node: UInt32) -> Bool {
        guard let replaceAfter, let since = unreachableSince[node] else { return false }
        return ContinuousClock.now - since >= replaceAfter
    }

    private func probe(_ chunkID: ChunkID, on node: UInt32) async -> CopyState {
        let state = await probeOnce(chunkID, on: node)
        if state == .unreachable {
            if unreachableSince[node] == nil { unreachableSince[node] = ContinuousClock.now }
        } else {
            unreachableSince[node] = nil
        }
        return state
    }

    private func probeOnce(_ chunkID: ChunkID, on node: UInt32) async -> CopyState {
        guard let store = cluster.store(for: node) else { return .unreachable }
        do {
            _ = try await store.read(chunkID, offset: 0, length: 0)
            return .good
        } catch .chunkNotFound {
            return .missing
        } catch .checksumMismatch {
            return .damaged
        } catch {
            return .unreachable
        }
    }
}
