import Foundation
import NIOCore
import Testing

@testable import BlobNode
import Erasure

/// The Reed–Solomon coder against its definition: for several k+m codes and chunk sizes (empty, one byte,
/// sizes that are not multiples of k, a full 1 MiB chunk), every pattern of at most m lost shards decodes to
/// the original bytes, rebuilt shards equal the encoded ones byte for byte, and more than m losses are
/// refused. The data shards are the chunk itself, padded (the systematic property the read path relies on).
@Suite struct ReedSolomonTests {
    static let codes: [(k: Int, m: Int)] = [(4, 2), (2, 1), (3, 3), (6, 3), (1, 1), (10, 4)]
    static let sizes = [0, 1, 2, 3, 5, 17, 1000, 4093, 65_537]

    /// Deterministic bytes (a linear congruential sequence), different per seed.
    static func bytes(_ count: Int, seed: UInt32) -> [UInt8] {
        var state = seed &* 2_654_435_761 &+ 1
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    /// Every subset of `0..<n` with at most `size` elements.
    static func subsets(of n: Int, sizeMax: Int) -> [[Int]] {
        (0..<(1 << n)).compactMap { mask -> [Int]? in
            let members = (0..<n).filter { mask & (1 << $0) != 0 }
            return members.count <= sizeMax ? members : nil
        }
    }

    @Test(arguments: codes.indices)
    func everyLossPatternOfAtMostMDecodes(codeIndex: Int) throws {
        let (k, m) = Self.codes[codeIndex]
        let coder = try ReedSolomon(dataShardCount: k, parityShardCount: m)
        let patterns = Self.subsets(of: k + m, sizeMax: m)
        for size in Self.sizes {
            let original = Self.bytes(size, seed: UInt32(size * 31 + k))
            let shards = coder.encode(ByteBuffer(bytes: original))
            #expect(shards.count == k + m)
            let shardSize = coder.shardSizeBytes(forChunkBytes: size)
            #expect(shardSize * k >= size && shardSize * k < size + k)
            #expect(shards.allSatisfy { $0.readableBytes == shardSize })
            // Systematic: the data shards are the chunk, then zero padding.
            let data = shards.prefix(k).flatMap { Array($0.readableBytesView) }
            #expect(Array(data.prefix(size)) == original)
            #expect(data.dropFirst(size).allSatisfy { $0 == 0 })
            for lost in patterns {
                var present: [ByteBuffer?] = shards
                for index in lost { present[index] = nil }
                let decoded = try coder.decode(present, chunkSizeBytes: size)
                #expect(Array(decoded.readableBytesView) == original, "k=\(k) m=\(m) size=\(size) lost=\(lost)")
                let rebuilt = try coder.reconstruct(present, indexes: lost)
                for (position, index) in lost.enumerated() {
                    #expect(rebuilt[position] == shards[index], "rebuilt shard \(index), k=\(k) m=\(m) size=\(size)")
                }
            }
        }
    }

    @Test func moreThanMLossesAreRefused() throws {
        let coder = try ReedSolomon(dataShardCount: 4, parityShardCount: 2)
        let shards = coder.encode(ByteBuffer(bytes: Self.bytes(1001, seed: 7)))
        for lost in Self.subsets(of: 6, sizeMax: 6) where lost.count > 2 {
            var present: [ByteBuffer?] = shards
            for index in lost { present[index] = nil }
            #expect(throws: ErasureCodingError.tooFewShards(present: 6 - lost.count, needed: 4)) {
                try coder.decode(present, chunkSizeBytes: 1001)
            }
        }
    }

    @Test func aShardOfTheWrongLengthIsRefused() throws {
        let coder = try ReedSolomon(dataShardCount: 4, parityShardCount: 2)
        var shards: [ByteBuffer?] = coder.encode(ByteBuffer(bytes: Self.bytes(1000, seed: 3)))
        shards[1] = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: ErasureCodingError.shardSizeMismatch(index: 1, sizeBytes: 3, expected: 250)) {
            try coder.decode(shards, chunkSizeBytes: 1000)
        }
    }

    @Test func invalidShardCountsAreRefused() {
        for (k, m) in [(0, 2), (4, 0), (-1, 1), (ReedSolomon.shardCountMax, 1)] {
            #expect(throws: ErasureCodingError.invalidShardCounts(data: k, parity: m)) {
                try ReedSolomon(dataShardCount: k, parityShardCount: m)
            }
        }
    }

    /// A full chunk, 4+2: decodes after losing two data shards. Prints encode and decode throughput (a note
    /// for the closing report, not a pass/fail figure: this is a debug build on a shared machine).
    @Test func aFullChunkRoundTripsAndThroughputIsPrinted() throws {
        let coder = try ReedSolomon(dataShardCount: 4, parityShardCount: 2)
        let original = ByteBuffer(bytes: Self.bytes(1 << 20, seed: 11))
        let rounds = 64
        var shards: [ByteBuffer] = []
        let encodeStart = Date()
        for _ in 0..<rounds { shards = coder.encode(original) }
        let encodeSeconds = Date().timeIntervalSince(encodeStart)
        var present: [ByteBuffer?] = shards
        present[0] = nil
        present[2] = nil
        var decoded = ByteBuffer()
        let decodeStart = Date()
        for _ in 0..<rounds { decoded = try coder.decode(present, chunkSizeBytes: 1 << 20) }
        let decodeSeconds = Date().timeIntervalSince(decodeStart)
        #expect(decoded == original)
        print(
            "ReedSolomon 4+2, 1 MiB chunks: encode \(Int(Double(rounds) / encodeSeconds)) MiB/s, "
                + "decode with 2 data shards lost \(Int(Double(rounds) / decodeSeconds)) MiB/s")
    }
}
