import BlobContract
import Erasure
import Logging
import MetaContract
import NIOCore
import S3Protocol

/// Cuts a request body into chunks and writes each to the blob nodes the ring picks, with a bounded
/// number of chunk writes in flight (back-pressure: the body is not read further while the window is
/// full), feeding every byte to `digests` on the way.
///
/// Promises: when `write` returns, every chunk it lists is durable on all of its nodes. When it throws
/// (client gone, short body, store fault), it deletes what it wrote on a best-effort basis; anything left
/// behind is never referenced by metadata and the orphan sweeper removes it later.
/// Memory: at most `(chunksInFlightMax + 1) × chunkSizeBytes` per request, plus the shards of the chunks in
/// flight for an erasure-coded bucket (`(k+m)/k` of a chunk each, the chunk's own copy released once encoded).
struct ObjectBodyWriter: Sendable {
    let cluster: BlobCluster
    let chunkSizeBytes: Int
    let chunksInFlightMax: Int
    let logger: Logger

    /// Writes `body` as chunks. Throws `S3Error(.incompleteBody)` if the body ends before
    /// `expectedLength` bytes, and `.invalidRequest` if it runs past it (or past `maximumLength`).
    /// `plan`: how each chunk is kept (`plan(for:)` of the bucket's durability), awaited only when the first
    /// chunk is ready, so the metadata read behind it overlaps the first chunk's arrival.
    func write<Body: AsyncSequence & Sendable>(
        _ body: Body, expectedLength: Int64?, maximumLength: Int64, plan: Task<ChunkPlan, any Error>,
        digests: inout BodyDigests
    ) async throws -> [ChunkRef] where Body.Element == ByteBuffer {
        var written: [Int: ChunkRef] = [:]
        do {
            let refs = try await writeChunks(body, expectedLength: expectedLength, maximumLength: maximumLength,
                                             plan: plan, digests: &digests, written: &written)
            return refs
        } catch {
            await deleteBestEffort(Array(written.values))
            throw error
        }
    }

    private func writeChunks<Body: AsyncSequence & Sendable>(
        _ body: Body, expectedLength: Int64?, maximumLength: Int64, plan: Task<ChunkPlan, any Error>,
        digests: inout BodyDigests,
        written: inout [Int: ChunkRef]
    ) async throws -> [ChunkRef] where Body.Element == ByteBuffer {
        try await withThrowingTaskGroup(of: (Int, ChunkRef).self) { group in
            do {
                return try await fillChunks(body, expectedLength: expectedLength, maximumLength: maximumLength,
                                            plan: plan, digests: &digests, written: &written, group: &group)
            } catch {
                // Chunk writes still in flight may complete before they see the cancellation: collect
                // every one that did, so the caller deletes it instead of leaving it to the sweeper.
                group.cancelAll()
                while let result = await group.nextResult() {
                    if case .success((let index, let ref)) = result { written[index] = ref }
                }
                throw error
            }
        }
    }

    /// Reads the body into chunks and launches their writes in `group`, at most `chunksInFlightMax` at a
    /// time; every finished write is recorded in `written` as soon as it is collected.
    private func fillChunks<Body: AsyncSequence & Sendable>(
        _ body: Body, expectedLength: Int64?, maximumLength: Int64, plan planned: Task<ChunkPlan, any Error>,
        digests: inout BodyDigests,
        written: inout [Int: ChunkRef], group: inout ThrowingTaskGroup<(Int, ChunkRef), any Error>
    ) async throws -> [ChunkRef] where Body.Element == ByteBuffer {
        var pending = ByteBuffer()
        var total: Int64 = 0
        var nextIndex = 0
        var inFlight = 0
        var resolved: ChunkPlan?

        func launch(_ bytes: ByteBuffer, _ plan: ChunkPlan) {
            let index = nextIndex
            nextIndex += 1
            inFlight += 1
            group.addTask {
                switch plan {
                case .replicas(let count): return (index, try await self.writeChunk(bytes, replicas: count))
                case .erasure(let coder): return (index, try await self.writeStripe(bytes, coder: coder))
                }
            }
        }

        var iterator = body.makeAsyncIterator()
        while var buffer = try await Self.next(&iterator) {
            total += Int64(buffer.readableBytes)
            if total > maximumLength || (expectedLength.map { total > $0 } ?? false) {
                throw S3Error(.invalidRequest, "The request body is longer than its declared length.")
            }
            digests.update(buffer)
            while buffer.readableBytes > 0 {
                if pending.capacity == 0 { pending.reserveCapacity(chunkSizeBytes) }
                let take = min(buffer.readableBytes, chunkSizeBytes - pending.readableBytes)
                var slice = buffer.readSlice(length: take)!
                pending.writeBuffer(&slice)
                if pending.readableBytes == chunkSizeBytes {
                    while inFlight >= chunksInFlightMax, let (index, ref) = try await group.next() {
                        written[index] = ref
                        inFlight -= 1
                    }
                    if resolved == nil { resolved = try await planned.value }
                    launch(pending, resolved!)
                    pending = ByteBuffer()
                }
            }
        }
        if let expectedLength, total < expectedLength {
            throw S3Error(.incompleteBody)
        }
        if pending.readableBytes > 0 || nextIndex == 0 && total > 0 {
            if resolved == nil { resolved = try await planned.value }
            launch(pending, resolved!)
        }
        while let (index, ref) = try await group.next() {
            written[index] = ref
        }
        precondition(written.count == nextIndex, "chunks written \(written.count) != launched \(nextIndex)")
        let refs = (0..<nextIndex).map { written[$0]! }
        precondition(refs.reduce(0) { $0 + $1.sizeBytes } == total, "chunk sizes do not add up to \(total)")
        return refs
    }

    /// The next body buffer. A transport failure (the client closed or reset the connection mid-body)
    /// becomes IncompleteBody; errors that already mean something (signatures, framing) pass through.
    static func next<Iterator: AsyncIteratorProtocol>(_ iterator: inout Iterator) async throws -> ByteBuffer?
        where Iterator.Element == ByteBuffer
    {
        do {
            return try await iterator.next()
        } catch let error as S3Error {
            throw error
        } catch let error as AWSChunkedError {
            throw error
        } catch {
            throw S3Error(.incompleteBody, "The connection closed before the whole body arrived.", cause: error)
        }
    }

    /// Writes one chunk to `replicaCount` nodes: the ring's first choices in parallel, and for each that fails
    /// the next node of the chunk's ring order (so a node that is down costs a retry, not the write). Durable
    /// when `replicaCount` nodes acknowledged; the nodes that hold it are recorded in its `ChunkRef` (reads
    /// follow the record, not the ring). Fails when fewer nodes than that could take it.
    private func writeChunk(_ bytes: ByteBuffer, replicas wanted: Int) async throws -> ChunkRef {
        let chunkID = ChunkID.random(in: ChunkID.min...ChunkID.max)
        let preference = cluster.preference(chunkID)
        var holders: [UInt32] = []
        var next = 0
        var lastError: (any Error)?
        while holders.count < wanted {
            let missing = wanted - holders.count
            guard preference.count - next >= missing else {
                throw lastError.map { S3Error.from($0) }
                    ?? S3Error(.serviceUnavailable, "Fewer than \(wanted) blob nodes can take a chunk.")
            }
            let batch = Array(preference[next..<(next + missing)])
            next += missing
            let outcomes = await withTaskGroup(of: (UInt32, (any Error)?).self) { group in
                for node in batch {
                    group.addTask { [cluster] in
                        guard let store = cluster.store(for: node) else {
                            return (node, S3Error(.serviceUnavailable, "Blob node \(node) is not configured."))
                        }
                        do {
                            try await store.write(chunkID, bytes)
                            return (node, nil)
                        } catch {
                            return (node, error)
                        }
                    }
                }
                var outcomes: [(UInt32, (any Error)?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            for (node, error) in outcomes {
                if let error {
                    lastError = error
                    logger.warning("chunk write failed; trying the next node",
                                   metadata: ["node": "\(node)", "error": "\(error)"])
                } else {
                    holders.append(node)
                }
            }
        }
        return ChunkRef(id: chunkID, sizeBytes: Int64(bytes.readableBytes), nodes: holders.sorted())
    }

    /// Writes one chunk as a Reed–Solomon stripe: k+m shards on k+m distinct nodes, all in parallel, shard i
    /// first to the i-th node of the chunk's ring order. A shard whose write fails goes to the next node of
    /// that order no shard is on yet (retried in parallel rounds, as replicas are), so a dead node costs a
    /// retry, not the write. Durable when every shard is acknowledged; `nodes[i]` records where shard i is.
    /// Fails when fewer than k+m nodes could take the shards.
    private func writeStripe(_ bytes: ByteBuffer, coder: ReedSolomon) async throws -> ChunkRef {
        let chunkID = ChunkID.random(in: ChunkID.min...ChunkID.max)
        let shards = coder.encode(bytes)
        let checksums = shards.map(ReedSolomon.shardChecksum)
        // Derived before the child tasks start (see `StripeReader.shardIDs`).
        let shardIDs = (0..<coder.shardCount).map { ChunkRef.shardID(of: chunkID, index: $0) }
        let preference = cluster.preference(chunkID)
        let wanted = coder.shardCount
        var holders = [UInt32?](repeating: nil, count: wanted)
        var next = 0
        var lastError: (any Error)?
        while holders.contains(nil) {
            let pending = holders.indices.filter { holders[$0] == nil }
            guard preference.count - next >= pending.count else {
                throw lastError.map { S3Error.from($0) }
                    ?? S3Error(.serviceUnavailable, "Fewer than \(wanted) blob nodes can take a chunk's shards.")
            }
            let batch = pending.enumerated().map { (shard: $0.element, node: preference[next + $0.offset]) }
            next += pending.count
            let outcomes = await withTaskGroup(of: (Int, UInt32, (any Error)?).self) { group in
                for (shard, node) in batch {
                    group.addTask { [cluster] in
                        guard let store = cluster.store(for: node) else {
                            return (shard, node, S3Error(.serviceUnavailable, "Blob node \(node) is not configured."))
                        }
                        do {
                            try await store.write(shardIDs[shard], shards[shard])
                            return (shard, node, nil)
                        } catch {
                            return (shard, node, error)
                        }
                    }
                }
                var outcomes: [(Int, UInt32, (any Error)?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            for (shard, node, error) in outcomes {
                if let error {
                    lastError = error
                    logger.warning("shard write failed; trying the next node",
                                   metadata: ["node": "\(node)", "shard": "\(shard)", "error": "\(error)"])
                } else {
                    holders[shard] = node
                }
            }
        }
        let nodes = holders.map { $0! }
        precondition(Set(nodes).count == nodes.count, "shards of one chunk on the same node: \(nodes)")
        let stripe = ErasureStripe(
            dataShardCount: coder.dataShardCount, parityShardCount: coder.parityShardCount,
            shardSizeBytes: coder.shardSizeBytes(forChunkBytes: bytes.readableBytes), shardChecksums: checksums)
        return ChunkRef(id: chunkID, sizeBytes: Int64(bytes.readableBytes), nodes: nodes, layout: .erasure(stripe))
    }

    /// How the chunks of a body for a bucket with `durability` are kept: nil is this gateway's default
    /// replication. Refuses (503) a durability that needs more blob nodes than the ring has.
    func plan(for durability: BucketDurability?) throws -> ChunkPlan {
        let plan: ChunkPlan
        switch durability {
        case nil: plan = .replicas(cluster.replicaCount)
        case .replicas(let count)?: plan = .replicas(count)
        case .erasure(let k, let m)?:
            do {
                plan = .erasure(try ReedSolomon(dataShardCount: k, parityShardCount: m))
            } catch {
                throw S3Error(.internalError, "The bucket's durability ec:\(k)+\(m) cannot be encoded.", cause: error)
            }
        }
        guard plan.nodeCount <= cluster.writableNodeCount else {
            throw S3Error(.serviceUnavailable,
                          "The bucket's durability needs \(plan.nodeCount) blob nodes; \(cluster.writableNodeCount) take writes.")
        }
        return plan
    }

    /// After the metadata write that would reference `chunks` failed: deletes them only when the failure is
    /// a definite refusal. After an unknown outcome the command may still commit and reference them, so they
    /// stay; if it never does, the orphan sweeper removes them by age.
    func deleteUnlessMaybeCommitted(_ chunks: [ChunkRef], after error: any Error) async {
        if let metaError = error as? MetaError, !metaError.isDefiniteRefusal {
            logger.warning("metadata outcome unknown: keeping the write's chunks",
                           metadata: ["chunks": "\(chunks.count)", "error": "\(metaError)"])
            return
        }
        await deleteBestEffort(chunks)
    }

    func deleteBestEffort(_ chunks: [ChunkRef]) async {
        var byNode: [UInt32: [ChunkID]] = [:]
        for chunk in chunks {
            for (node, id) in chunk.storedRecords { byNode[node, default: []].append(id) }
        }
        for node in byNode.keys.sorted() {
            guard let store = cluster.store(for: node) else { continue }
            do {
                try await store.delete(byNode[node]!)
            } catch {
                logger.warning("could not delete chunks of a failed write", metadata: ["node": "\(node)", "error": "\(error)"])
            }
        }
    }
}

/// How one body's chunks are kept: whole copies on `replicas` nodes, or erasure-coded stripes.
enum ChunkPlan: Sendable {
    case replicas(Int)
    case erasure(ReedSolomon)

    /// The distinct nodes one chunk occupies.
    var nodeCount: Int {
        switch self {
        case .replicas(let count): return count
        case .erasure(let coder): return coder.shardCount
        }
    }
}
