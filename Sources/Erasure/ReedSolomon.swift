import ZlibCRC
import CISAL
public import NIOCore

/// Why an erasure code could not be built or a chunk could not be rebuilt from its shards.
public enum ErasureCodingError: Error, Equatable, Sendable {
    /// The shard counts are outside what the coder supports (`ReedSolomon.shardCountMax`).
    case invalidShardCounts(data: Int, parity: Int)
    /// Fewer than `dataShardCount` shards are present: the chunk cannot be rebuilt.
    case tooFewShards(present: Int, needed: Int)
    /// A present shard does not have the stripe's shard length (or the shard array has the wrong count).
    case shardSizeMismatch(index: Int, sizeBytes: Int, expected: Int)
    /// The submatrix of the chosen shards did not invert (cannot happen with a Cauchy matrix: a bug).
    case singularMatrix
}

/// A systematic Reed–Solomon code over GF(2^8) with `dataShardCount` data and `parityShardCount` parity
/// shards, on Intel ISA-L (`gf_gen_cauchy1_matrix`, `ec_init_tables`, `ec_encode_data`).
///
/// A chunk of `n` bytes is padded with zeros to `k × shardSizeBytes(n)` and cut into k data shards (shard i
/// holds bytes `[i·L, (i+1)·L)` of the padded chunk, so reading the data shards in order and dropping the
/// padding gives the chunk back with no arithmetic); m parity shards follow. Any k of the k+m shards rebuild
/// the rest: the code's generator matrix is an identity over a Cauchy matrix, every k×k submatrix of which
/// is invertible.
///
/// Pure: no I/O, no state beyond the matrices; a value can be shared across tasks.
public struct ReedSolomon: Sendable {
    /// The most shards (data plus parity) a code may have: shard indexes must fit in the byte that shard
    /// ids are derived with, and ISA-L's Cauchy matrix is defined up to 255 rows.
    public static let shardCountMax = 32

    public let dataShardCount: Int
    public let parityShardCount: Int
    /// The (k+m)×k generator matrix, row-major: the identity, then the Cauchy rows of the parity shards.
    private let generator: [UInt8]
    /// `ec_init_tables` of the parity rows: 32 bytes per coefficient.
    private let parityTables: [UInt8]

    public var shardCount: Int { dataShardCount + parityShardCount }

    public init(dataShardCount: Int, parityShardCount: Int) throws(ErasureCodingError) {
        guard dataShardCount >= 1, parityShardCount >= 1, dataShardCount + parityShardCount <= Self.shardCountMax
        else { throw .invalidShardCounts(data: dataShardCount, parity: parityShardCount) }
        self.dataShardCount = dataShardCount
        self.parityShardCount = parityShardCount
        let rows = dataShardCount + parityShardCount
        var generator = [UInt8](repeating: 0, count: rows * dataShardCount)
        generator.withUnsafeMutableBufferPointer {
            gf_gen_cauchy1_matrix($0.baseAddress, Int32(rows), Int32(dataShardCount))
        }
        self.generator = generator
        var parityRows = Array(generator[(dataShardCount * dataShardCount)...])
        self.parityTables = Self.tables(k: dataShardCount, coefficients: &parityRows, rows: parityShardCount)
    }

    /// The CRC-32 (zlib's) of a shard, as `ErasureStripe.shardChecksums` records it.
    public static func shardChecksum(_ shard: ByteBuffer) -> UInt32 {
        shard.withUnsafeReadableBytes { crc32Update(0, $0) }
    }

    /// The length of every shard of a chunk of `chunkSizeBytes`: the chunk divided by k, rounded up.
    public func shardSizeBytes(forChunkBytes chunkSizeBytes: Int) -> Int {
        precondition(chunkSizeBytes >= 0, "chunk size \(chunkSizeBytes) < 0")
        return (chunkSizeBytes + dataShardCount - 1) / dataShardCount
    }

    /// The k data shards then the m parity shards of `chunk`, each `shardSizeBytes(chunk.readableBytes)`
    /// long: slices of one buffer (the chunk is copied once, padded, and the parity computed in place).
    public func encode(_ chunk: ByteBuffer) -> [ByteBuffer] {
        let shardSize = shardSizeBytes(forChunkBytes: chunk.readableBytes)
        let totalBytes = shardSize * shardCount
        var stripe = ByteBufferAllocator().buffer(capacity: totalBytes)
        stripe.writeWithUnsafeMutableBytes(minimumWritableBytes: totalBytes) { output in
            let base = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            chunk.withUnsafeReadableBytes { input in
                if input.count > 0 {
                    UnsafeMutableRawPointer(base).copyMemory(from: input.baseAddress!, byteCount: input.count)
                }
            }
            // Only the padding (fewer than k bytes) needs zeros: ec_encode_data overwrites every parity byte.
            let dataBytes = shardSize * dataShardCount
            for index in chunk.readableBytes..<dataBytes { base[index] = 0 }
            if shardSize > 0 {
                var sources = (0..<dataShardCount).map { Optional(base + $0 * shardSize) }
                var outputs = (dataShardCount..<shardCount).map { Optional(base + $0 * shardSize) }
                var tables = parityTables
                ec_encode_data(
                    Int32(shardSize), Int32(dataShardCount), Int32(parityShardCount), &tables,
                    &sources, &outputs)
            }
            return totalBytes
        }
        return (0..<shardCount).map { stripe.getSlice(at: $0 * shardSize, length: shardSize)! }
    }

    /// The chunk of `chunkSizeBytes` from its shards (nil: missing; at least k present). With every data
    /// shard present this only concatenates them; otherwise the missing data shards are rebuilt first.
    public func decode(_ shards: [ByteBuffer?], chunkSizeBytes: Int) throws(ErasureCodingError) -> ByteBuffer {
        let shardSize = shardSizeBytes(forChunkBytes: chunkSizeBytes)
        try check(shards, shardSize: shardSize)
        let missingData = (0..<dataShardCount).filter { shards[$0] == nil }
        let rebuilt = try reconstruct(shards, indexes: missingData)
        var chunk = ByteBufferAllocator().buffer(capacity: chunkSizeBytes)
        var rebuiltIndex = 0
        for index in 0..<dataShardCount where chunk.readableBytes < chunkSizeBytes {
            var shard: ByteBuffer
            if let present = shards[index] {
                shard = present
            } else {
                shard = rebuilt[rebuiltIndex]
                rebuiltIndex += 1
            }
            let take = min(shard.readableBytes, chunkSizeBytes - chunk.readableBytes)
            var piece = shard.readSlice(length: take)!
            chunk.writeBuffer(&piece)
        }
        precondition(chunk.readableBytes == chunkSizeBytes, "decoded \(chunk.readableBytes) of \(chunkSizeBytes) bytes")
        return chunk
    }

    /// The shards at `indexes` (data or parity, in the order asked), rebuilt from any k present shards of
    /// `shards` (nil: missing). For a read that lost a data shard, and for repair, which rewrites lost shards.
    public func reconstruct(_ shards: [ByteBuffer?], indexes: [Int]) throws(ErasureCodingError) -> [ByteBuffer] {
        guard !indexes.isEmpty else { return [] }
        precondition(
            indexes.allSatisfy { (0..<shardCount).contains($0) }, "shard indexes \(indexes) outside 0..<\(shardCount)")
        guard let shardSize = shards.first(where: { $0 != nil })??.readableBytes else {
            throw .tooFewShards(present: 0, needed: dataShardCount)
        }
        try check(shards, shardSize: shardSize)
        let chosen = Array(shards.indices.filter { shards[$0] != nil }.prefix(dataShardCount))
        guard chosen.count == dataShardCount else { throw .tooFewShards(present: chosen.count, needed: dataShardCount) }
        let coefficients = try decodeRows(chosen: chosen, wanted: indexes)
        let output = shardSize * indexes.count
        guard shardSize > 0 else { return indexes.map { _ in ByteBuffer() } }
        // ISA-L takes arrays of pointers; the chosen shards are separate buffers, so they are gathered into
        // one (a copy of one chunk, on the degraded path only).
        var sources = ByteBufferAllocator().buffer(capacity: shardSize * dataShardCount)
        for index in chosen {
            var shard = shards[index]!
            sources.writeBuffer(&shard)
        }
        var result = ByteBufferAllocator().buffer(capacity: output)
        var matrix = coefficients
        var tables = Self.tables(k: dataShardCount, coefficients: &matrix, rows: indexes.count)
        let k = dataShardCount
        sources.withUnsafeMutableReadableBytes { input in
            let inputBase = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
            result.writeWithUnsafeMutableBytes(minimumWritableBytes: output) { out in
                let outputBase = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var inputs = (0..<k).map { Optional(inputBase + $0 * shardSize) }
                var outputs = (0..<indexes.count).map { Optional(outputBase + $0 * shardSize) }
                ec_encode_data(Int32(shardSize), Int32(k), Int32(indexes.count), &tables, &inputs, &outputs)
                return output
            }
        }
        return (0..<indexes.count).map { result.getSlice(at: $0 * shardSize, length: shardSize)! }
    }

    private func check(_ shards: [ByteBuffer?], shardSize: Int) throws(ErasureCodingError) {
        guard shards.count == shardCount else {
            throw .shardSizeMismatch(index: shards.count, sizeBytes: 0, expected: shardCount)
        }
        for (index, shard) in shards.enumerated() {
            if let shard, shard.readableBytes != shardSize {
                throw .shardSizeMismatch(index: index, sizeBytes: shard.readableBytes, expected: shardSize)
            }
        }
        let present = shards.count { $0 != nil }
        guard present >= dataShardCount else { throw .tooFewShards(present: present, needed: dataShardCount) }
    }

    /// The rows that turn the `chosen` shards into the `wanted` ones: the generator's row of each wanted
    /// shard times the inverse of the chosen shards' k×k submatrix.
    private func decodeRows(chosen: [Int], wanted: [Int]) throws(ErasureCodingError) -> [UInt8] {
        let k = dataShardCount
        var submatrix = [UInt8](repeating: 0, count: k * k)
        for (row, index) in chosen.enumerated() {
            for column in 0..<k { submatrix[row * k + column] = generator[index * k + column] }
        }
        var inverse = [UInt8](repeating: 0, count: k * k)
        let status = submatrix.withUnsafeMutableBufferPointer { sub in
            inverse.withUnsafeMutableBufferPointer { inv in gf_invert_matrix(sub.baseAddress, inv.baseAddress, Int32(k))
            }
        }
        guard status == 0 else { throw .singularMatrix }
        var rows = [UInt8](repeating: 0, count: wanted.count * k)
        for (row, index) in wanted.enumerated() {
            for column in 0..<k {
                var sum: UInt8 = 0
                for inner in 0..<k {
                    sum ^= gf_mul(generator[index * k + inner], inverse[inner * k + column])
                }
                rows[row * k + column] = sum
            }
        }
        return rows
    }

    private static func tables(k: Int, coefficients: inout [UInt8], rows: Int) -> [UInt8] {
        var tables = [UInt8](repeating: 0, count: 32 * k * rows)
        coefficients.withUnsafeMutableBufferPointer { matrix in
            tables.withUnsafeMutableBufferPointer {
                ec_init_tables(Int32(k), Int32(rows), matrix.baseAddress, $0.baseAddress)
            }
        }
        return tables
    }
}
