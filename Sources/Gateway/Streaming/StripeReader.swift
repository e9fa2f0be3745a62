import BlobContract
import Erasure
import Logging
import MetaContract
import Metrics
import NIOCore

/// Reads a byte range of one erasure-coded chunk.
///
/// Normal path: only the data shards the range overlaps, in parallel, each checked against the CRC-32 its
/// `ErasureStripe` records; no decoding (the code is systematic: data shards are the chunk's bytes). When one
/// of them is missing, unreachable or fails its checksum, or they take longer than `hedgeDelay`, more shards
/// are read (other data shards first, then parity) until k good ones are in hand, and the missing data
/// shards are rebuilt from those.
/// Promises: the exact bytes or a throw, never bytes that did not pass a shard checksum or a decode from
/// fewer than k checked shards. Memory: at most k shards (one chunk) plus the rebuilt ones.
struct StripeReader: Sendable {
    let chunk: ChunkRef
    let stripe: ErasureStripe
    let cluster: BlobCluster
    /// The id each shard is stored under, derived here in synchronous code: deriving 128-bit ids inside
    /// the async child tasks crashed the debug build (a null task resume in swift_job_run), so every async
    /// path takes them precomputed.
    let shardIDs: [ChunkID]

    init(chunk: ChunkRef, stripe: ErasureStripe, cluster: BlobCluster) {
        self.chunk = chunk
        self.stripe = stripe
        self.cluster = cluster
        self.shardIDs = chunk.storedRecords.map(\.id)
    }

    /// How long the data shards a read needs may take before other shards are read as well (a hedge: a
    /// slow or paused node then costs this, not the chunk protocol's request deadline).
    static let hedgeDelay: Duration = .milliseconds(300)

    /// Bytes `offset ..< offset + length` of the chunk.
    func read(offset: Int, length: Int) async throws -> ByteBuffer {
        precondition(
            offset >= 0 && length >= 0 && Int64(offset + length) <= chunk.sizeBytes,
            "range \(offset)+\(length) outside a chunk of \(chunk.sizeBytes)")
        let shardSize = stripe.shardSizeBytes
        guard length > 0, shardSize > 0 else { return ByteBuffer() }
        let needed = Array((offset / shardSize)...((offset + length - 1) / shardSize))
        var shards = try await gather(needed)
        let lost = needed.filter { shards[$0] == nil }
        if !lost.isEmpty {
            Counter(label: "silo_erasure_degraded_reads_total").increment()
            let coder = try ReedSolomon(dataShardCount: stripe.dataShardCount, parityShardCount: stripe.parityShardCount)
            let rebuilt = try coder.reconstruct(shards, indexes: lost)
            for (position, index) in lost.enumerated() {
                // The decode is only as good as its inputs, each checked: a mismatch means inputs damaged in a
                // way their checksums missed, or a stripe recorded wrongly. Refused (an error, not a crash: the
                // bytes come from disks), never served.
                guard ReedSolomon.shardChecksum(rebuilt[position]) == stripe.shardChecksums[index] else {
                    Counter(label: "silo_erasure_shard_mismatches_total").increment()
                    throw S3Error(.internalError, "Rebuilt shard \(index) of a chunk does not match its checksum.")
                }
                shards[index] = rebuilt[position]
            }
        }
        func piece(_ index: Int) -> ByteBuffer {
            let shardStart = index * shardSize
            let lower = max(offset, shardStart) - shardStart
            let upper = min(offset + length, shardStart + shardSize) - shardStart
            return shards[index]!.getSlice(at: shards[index]!.readerIndex + lower, length: upper - lower)!
        }
        // A range inside one shard is a slice of it, not a copy.
        if needed.count == 1 { return piece(needed[0]) }
        var output = ByteBufferAllocator().buffer(capacity: length)
        for index in needed {
            var bytes = piece(index)
            output.writeBuffer(&bytes)
        }
        precondition(output.readableBytes == length, "stripe read \(output.readableBytes) of \(length) bytes")
        return output
    }

    private enum Arrival: Sendable {
        case shard(Int, Result<ByteBuffer, any Error>)
        case hedge
    }

    /// Good shards (checked against their CRC-32s; nil: not read or not good): every shard of `needed`, or,
    /// when one of them fails or they take longer than `hedgeDelay`, any k. After a failure, other shards
    /// are started, data before parity, so that the reads in flight and the good ones can still make k;
    /// after the hedge delay every other shard is (the slow reads in flight cannot be counted on). The reads
    /// not needed any more are cancelled. Throws when fewer than k can be had.
    private func gather(_ needed: [Int]) async throws -> [ByteBuffer?] {
        let k = stripe.dataShardCount
        var shards = [ByteBuffer?](repeating: nil, count: stripe.shardCount)
        var untried = (0..<stripe.shardCount).filter { !needed.contains($0) }
        var inFlight = 0
        var hedged = false
        var degraded = false
        var lastError: (any Error)?
        return try await withThrowingTaskGroup(of: Arrival.self) { group in
            func start(_ index: Int) {
                inFlight += 1
                group.addTask { .shard(index, await self.readShard(index)) }
            }
            for index in needed { start(index) }
            group.addTask {
                try await Task.sleep(for: Self.hedgeDelay)
                return .hedge
            }
            while let arrival = try await group.next() {
                switch arrival {
                case .shard(let index, .success(let shard)):
                    inFlight -= 1
                    shards[index] = shard
                case .shard(_, .failure(let error)):
                    inFlight -= 1
                    lastError = error
                    degraded = true
                case .hedge:
                    // The reads in flight are slow, so they cannot be counted on: every other shard is read.
                    hedged = true
                    while !untried.isEmpty { start(untried.removeFirst()) }
                }
                let present = shards.count { $0 != nil }
                if needed.allSatisfy({ shards[$0] != nil }) || ((hedged || degraded) && present >= k) {
                    group.cancelAll()
                    return shards
                }
                if hedged || degraded {
                    while present + inFlight < k, !untried.isEmpty { start(untried.removeFirst()) }
                }
                if inFlight == 0 && (hedged || degraded) {
                    group.cancelAll()
                    throw S3Error(.serviceUnavailable,
                                  "Only \(present) of the \(k) shards needed to rebuild a chunk are readable.",
                                  cause: lastError)
                }
            }
            preconditionFailure("shard reads ended without an answer")
        }
    }

    private func readShard(_ index: Int) async -> Result<ByteBuffer, any Error> {
        let node = chunk.nodes[index]
        guard let store = cluster.store(for: node) else {
            return .failure(S3Error(.serviceUnavailable, "Blob node \(node) is not configured."))
        }
        do {
            let shard = try await store.read(shardIDs[index], offset: 0, length: stripe.shardSizeBytes)
            guard shard.readableBytes == stripe.shardSizeBytes,
                ReedSolomon.shardChecksum(shard) == stripe.shardChecksums[index]
            else {
                Counter(label: "silo_erasure_shard_mismatches_total").increment()
                return .failure(S3Error(.internalError, "Shard \(index) on node \(node) does not match its checksum."))
            }
            return .success(shard)
        } catch {
            return .failure(error)
        }
    }
}
