import BlobNode
import Logging
import MetaQuorum
import Metrics
import NIOCore

/// Reads a byte range of one erasure-coded chunk.
///
/// Normal path: only the data shards the range overlaps, in parallel, each checked against the CRC-32 its
/// `ErasureStripe` records; no decoding (the code is systematic: data shards are the chunk's bytes). When one
/// of them is missing, unreachable or fails its checksum, more shards are read (other data shards first,
/// then parity) until k good ones are in hand, and the missing data shards are rebuilt from those.
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

    /// Bytes `offset ..< offset + length` of the chunk.
    func read(offset: Int, length: Int) async throws -> ByteBuffer {
        precondition(
            offset >= 0 && length >= 0 && Int64(offset + length) <= chunk.sizeBytes,
            "range \(offset)+\(length) outside a chunk of \(chunk.sizeBytes)")
        let shardSize = stripe.shardSizeBytes
        guard length > 0, shardSize > 0 else { return ByteBuffer() }
        let needed = Array((offset / shardSize)...((offset + length - 1) / shardSize))
        var shards = [ByteBuffer?](repeating: nil, count: stripe.shardCount)
        var tried = Set<Int>()
        var lastError: (any Error)?
        try await fetch(needed, into: &shards, tried: &tried, lastError: &lastError)
        let lost = needed.filter { shards[$0] == nil }
        if !lost.isEmpty {
            Counter(label: "silo_erasure_degraded_reads_total").increment()
            try await rebuild(lost, into: &shards, tried: &tried, lastError: &lastError)
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

    /// Reads more shards until k good ones are present, then rebuilds the shards `lost`.
    private func rebuild(
        _ lost: [Int], into shards: inout [ByteBuffer?], tried: inout Set<Int>,
        lastError: inout (any Error)?
    ) async throws {
        let k = stripe.dataShardCount
        // Untried shards, data before parity: a data shard read is also one less shard to rebuild.
        var untried = (0..<stripe.shardCount).filter { !tried.contains($0) }
        while shards.count(where: { $0 != nil }) < k, !untried.isEmpty {
            let batch = Array(untried.prefix(k - shards.count(where: { $0 != nil })))
            untried.removeFirst(batch.count)
            try await fetch(batch, into: &shards, tried: &tried, lastError: &lastError)
        }
        let present = shards.count(where: { $0 != nil })
        guard present >= k else {
            throw S3Error(
                .serviceUnavailable,
                "Only \(present) of the \(k) shards needed to rebuild a chunk are readable.",
                cause: lastError)
        }
        let coder = try ReedSolomon(dataShardCount: k, parityShardCount: stripe.parityShardCount)
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

    /// Reads the whole shards `indexes` in parallel; a good one lands in `shards`, a failed or mismatching
    /// one stays nil (logged by the caller's counters).
    private func fetch(
        _ indexes: [Int], into shards: inout [ByteBuffer?], tried: inout Set<Int>,
        lastError: inout (any Error)?
    ) async throws {
        tried.formUnion(indexes)
        let results = await withTaskGroup(of: (Int, Result<ByteBuffer, any Error>).self) { group in
            for index in indexes {
                group.addTask { (index, await self.readShard(index)) }
            }
            var results: [(Int, Result<ByteBuffer, any Error>)] = []
            for await result in group { results.append(result) }
            return results
        }
        for (index, result) in results {
            switch result {
            case .success(let shard): shards[index] = shard
            case .failure(let error): lastError = error
            }
        }
        try Task.checkCancellation()
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
