import BlobNode
import Logging
import MetaQuorum
import NIOCore
import Placement
import Synchronization
import Testing

@testable import Gateway

/// Chunk stores in memory that can be taken down, corrupted or made to refuse writes: the blob nodes of the
/// erasure-coded data path tests.
final class MemoryStores: Sendable {
    private struct State {
        var chunks: [UInt32: [UInt128: ByteBuffer]] = [:]
        var down: Set<UInt32> = []
        /// Nodes whose reads never answer (until cancelled): a paused process.
        var hung: Set<UInt32> = []
    }
    private let state = Mutex(State())

    func take(_ node: UInt32, down: Bool) {
        state.withLock { state in
            if down { state.down.insert(node) } else { state.down.remove(node) }
        }
    }
    func hang(_ node: UInt32) { state.withLock { _ = $0.hung.insert(node) } }
    func records(on node: UInt32) -> [UInt128: ByteBuffer] { state.withLock { $0.chunks[node] ?? [:] } }
    func remove(_ id: UInt128, on node: UInt32) { state.withLock { _ = $0.chunks[node]?.removeValue(forKey: id) } }
    func replace(_ id: UInt128, on node: UInt32, with bytes: ByteBuffer) {
        state.withLock { $0.chunks[node]?[id] = bytes }
    }

    struct Store: ChunkStoring {
        let node: UInt32
        let stores: MemoryStores

        func write(_ chunkID: UInt128, _ bytes: ByteBuffer) async throws(BlobError) {
            try stores.state.withLock { (state) throws(BlobError) in
                guard !state.down.contains(node) else { throw .unavailable("node \(node) is down") }
                state.chunks[node, default: [:]][chunkID] = bytes
            }
        }

        func read(_ chunkID: UInt128, offset: Int, length: Int) async throws(BlobError) -> ByteBuffer {
            if stores.state.withLock({ $0.hung.contains(node) }) {
                do { try await Task.sleep(for: .seconds(3600)) } catch {}
                throw .unavailable("node \(node) answered only when cancelled")
            }
            return try stores.state.withLock { (state) throws(BlobError) in
                guard !state.down.contains(node) else { throw .unavailable("node \(node) is down") }
                guard let bytes = state.chunks[node]?[chunkID] else { throw .chunkNotFound(chunkID) }
                guard offset >= 0, length >= 0, offset + length <= bytes.readableBytes else {
                    throw .rangeOutOfBounds(chunkID)
                }
                return bytes.getSlice(at: bytes.readerIndex + offset, length: length)!
            }
        }

        func delete(_ chunkIDs: [UInt128]) async throws(BlobError) {
            stores.state.withLock { state in for id in chunkIDs { state.chunks[node]?.removeValue(forKey: id) } }
        }

        func chunks(writtenBeforeTime: Int64, after: UInt128?, limit: Int) async throws(BlobError) -> [UInt128] {
            stores.state.withLock { state in Array((state.chunks[node] ?? [:]).keys.sorted().prefix(limit)) }
        }
    }

    func cluster(nodes: Int, replicaCount: Int) throws -> BlobCluster {
        let ring = try Ring(
            epoch: 1, nodes: (1...nodes).map { RingNode(id: UInt32($0), zone: nil, weight: 1) },
            vnodesPerWeightUnit: 16)
        var stores: [UInt32: any ChunkStoring] = [:]
        for node in 1...UInt32(nodes) { stores[node] = Store(node: node, stores: self) }
        return BlobCluster(ring: ring, stores: stores, replicaCount: replicaCount)
    }
}

/// The gateway's erasure-coded data path without processes: `ObjectBodyWriter` encodes each chunk into 4+2
/// shards on six distinct in-memory nodes (replacing a node that refuses a write with the next one on the
/// ring), `ObjectBodyReader` returns every range exactly with any two nodes down or with shards deleted or
/// corrupted (reconstructing from parity), and refuses with fewer than k good shards. (Repair runs against
/// real processes in Tests/cluster/test_erasure.py.)
@Suite struct ErasurePathTests {
    static let logger = Logger(label: "erasure-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    static let chunkSizeBytes = 64 << 10

    struct Setup {
        let stores = MemoryStores()
        let cluster: BlobCluster
        let writer: ObjectBodyWriter

        init(nodes: Int = 6) throws {
            cluster = try stores.cluster(nodes: nodes, replicaCount: 2)
            writer = ObjectBodyWriter(
                cluster: cluster, chunkSizeBytes: ErasurePathTests.chunkSizeBytes,
                chunksInFlightMax: 2, logger: ErasurePathTests.logger)
        }

        func write(_ body: [UInt8], durability: BucketDurability?) async throws -> [ChunkRef] {
            // Uneven buffers, as a client's body arrives.
            var pieces: [ByteBuffer] = []
            var start = 0
            var step = 1
            while start < body.count {
                let end = min(body.count, start + step * 7919)
                pieces.append(ByteBuffer(bytes: body[start..<end]))
                start = end
                step += 1
            }
            var digests = BodyDigests.forCopy(algorithm: nil)
            return try await writer.write(
                Pieces(buffers: pieces), expectedLength: Int64(body.count),
                maximumLength: Int64(body.count), plan: Task { [writer] in try writer.plan(for: durability) },
                digests: &digests)
        }

        func read(_ chunks: [ChunkRef], _ range: Range<Int64>) async throws -> [UInt8] {
            let reader = ObjectBodyReader(
                cluster: cluster, chunks: chunks, range: range,
                budget: ReadAheadBudget(bytesMax: 1 << 20, chunksAheadMax: 2))
            var bytes: [UInt8] = []
            for try await buffer in reader { bytes += Array(buffer.readableBytesView) }
            return bytes
        }
    }

    static func body(_ count: Int) -> [UInt8] {
        var state: UInt32 = 0x1234_5678
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    static let ec42 = BucketDurability.erasure(dataShards: 4, parityShards: 2)
    static let ranges: [Range<Int64>] = [0..<1, 0..<16_385, 16_383..<16_390, 65_530..<65_545, 100_000..<200_001]

    @Test func chunksBecomeSixShardsOnSixNodesAndReadBackWithAnyTwoDown() async throws {
        let setup = try Setup()
        let body = Self.body(3 * Self.chunkSizeBytes + 4097)
        let chunks = try await setup.write(body, durability: Self.ec42)
        #expect(chunks.count == 4)
        for chunk in chunks {
            guard case .erasure(let stripe) = chunk.layout else {
                Issue.record("chunk \(chunk.id) is not erasure-coded")
                continue
            }
            #expect(stripe.dataShardCount == 4 && stripe.parityShardCount == 2)
            #expect(Set(chunk.nodes).count == 6)
            for (node, id) in chunk.storedRecords {
                #expect(setup.stores.records(on: node)[id]?.readableBytes == stripe.shardSizeBytes)
                #expect(setup.stores.records(on: node)[chunk.id] == nil, "a whole chunk was stored")
            }
        }
        #expect(try await setup.read(chunks, 0..<Int64(body.count)) == body)
        for first in UInt32(1)...5 {
            for second in (first + 1)...6 {
                setup.stores.take(first, down: true)
                setup.stores.take(second, down: true)
                #expect(try await setup.read(chunks, 0..<Int64(body.count)) == body, "nodes \(first), \(second) down")
                for range in Self.ranges {
                    let expected = Array(body[Int(range.lowerBound)..<Int(range.upperBound)])
                    #expect(try await setup.read(chunks, range) == expected, "\(range), nodes \(first), \(second) down")
                }
                setup.stores.take(first, down: false)
                setup.stores.take(second, down: false)
            }
        }
        // Three down: some chunk has fewer than four shards left; the read refuses rather than guess.
        for node in UInt32(1)...3 { setup.stores.take(node, down: true) }
        await #expect(throws: S3Error.self) { try await setup.read(chunks, 0..<Int64(body.count)) }
    }

    /// Two nodes that never answer (paused processes): reads are hedged after `StripeReader.hedgeDelay` and
    /// rebuilt from the other four shards, instead of waiting for the chunk protocol's deadline. Without the
    /// hedge this test hangs until the suite's time limit.
    @Test(.timeLimit(.minutes(1))) func readsAroundNodesThatNeverAnswer() async throws {
        let setup = try Setup()
        let body = Self.body(3 * Self.chunkSizeBytes + 11)
        let chunks = try await setup.write(body, durability: Self.ec42)
        let data = Set(chunks.flatMap { $0.nodes.prefix(2) })
        let hung = Array(data.sorted().prefix(2))
        for node in hung { setup.stores.hang(node) }
        #expect(try await setup.read(chunks, 0..<Int64(body.count)) == body)
        for range in Self.ranges where range.upperBound <= Int64(body.count) {
            #expect(try await setup.read(chunks, range) == Array(body[Int(range.lowerBound)..<Int(range.upperBound)]))
        }
    }

    @Test func aCorruptShardIsNeverReturnedAndIsRebuiltFromParity() async throws {
        let setup = try Setup()
        let body = Self.body(Self.chunkSizeBytes - 3)
        let chunks = try await setup.write(body, durability: Self.ec42)
        let chunk = chunks[0]
        // Data shard 1 comes back intact to the store (its own record checksum) but wrong for the stripe.
        let (node, id) = chunk.storedRecords[1]
        var wrong = setup.stores.records(on: node)[id]!
        wrong.setInteger(wrong.getInteger(at: wrong.readerIndex, as: UInt8.self)! ^ 0xFF, at: wrong.readerIndex)
        setup.stores.replace(id, on: node, with: wrong)
        #expect(try await setup.read(chunks, 0..<Int64(body.count)) == body)
        // And shard 0 missing as well: two losses, still exact.
        setup.stores.remove(chunk.storedRecords[0].id, on: chunk.storedRecords[0].node)
        #expect(try await setup.read(chunks, 0..<Int64(body.count)) == body)
    }

    @Test func aShardWriteThatFailsGoesToTheNextNode() async throws {
        let setup = try Setup(nodes: 8)
        setup.stores.take(3, down: true)
        let body = Self.body(5 * Self.chunkSizeBytes)
        let chunks = try await setup.write(body, durability: Self.ec42)
        for chunk in chunks {
            #expect(!chunk.nodes.contains(3))
            #expect(Set(chunk.nodes).count == 6)
        }
        setup.stores.take(3, down: false)
        #expect(try await setup.read(chunks, 0..<Int64(body.count)) == body)
        // With only five nodes taking writes, 4+2 cannot be placed: the write fails, nothing half-recorded.
        for node in UInt32(4)...6 { setup.stores.take(node, down: true) }
        await #expect(throws: S3Error.self) { try await setup.write(body, durability: Self.ec42) }
    }

    @Test func aDurabilityNeedingMoreNodesThanTheRingIsRefused() throws {
        let setup = try Setup(nodes: 5)
        #expect(throws: S3Error.self) { try setup.writer.plan(for: Self.ec42) }
        if case .replicas(let count) = try setup.writer.plan(for: nil) {
            #expect(count == 2)
        } else {
            Issue.record("default plan")
        }
        if case .replicas(let count) = try setup.writer.plan(for: .replicas(3)) {
            #expect(count == 3)
        } else {
            Issue.record("replicas plan")
        }
    }

    @Test func replicatedBucketsAreUnchanged() async throws {
        let setup = try Setup()
        let body = Self.body(2 * Self.chunkSizeBytes + 1)
        let chunks = try await setup.write(body, durability: nil)
        for chunk in chunks {
            #expect(chunk.layout == .replicated && chunk.nodes.count == 2)
            for node in chunk.nodes { #expect(setup.stores.records(on: node)[chunk.id] != nil) }
        }
        setup.stores.take(chunks[0].nodes[0], down: true)
        #expect(try await setup.read(chunks, 0..<Int64(body.count)) == body)
    }
}

/// A body as it arrives: a fixed list of buffers.
struct Pieces: AsyncSequence, Sendable {
    let buffers: [ByteBuffer]
    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: ArraySlice<ByteBuffer>
        mutating func next() async -> ByteBuffer? { remaining.popFirst() }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: buffers[...]) }
}
