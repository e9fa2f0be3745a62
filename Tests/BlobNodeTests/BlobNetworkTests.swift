import ClusterAuth
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BlobNode

/// A real `BlobServer` on 127.0.0.1 (port 0) serving a real `LocalChunkStore`, reached through a
/// `RemoteChunkStore`: the chunk protocol end to end, with its failures. Every wait is bounded (the suite's
/// time limit, and explicit deadlines where a hang is the failure under test).
@Suite(.timeLimit(.minutes(2))) struct BlobNetworkTests {
    static let secret = try! ClusterSecret("test-cluster-secret-0123456789")
    static let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A server on a fresh store, its client, and everything to tear them down.
    struct Node {
        let directory: TemporaryDirectory
        let group: MultiThreadedEventLoopGroup
        let store: LocalChunkStore
        let server: BlobServer
        let port: Int

        static func start(nodeID: UInt32 = 7, wrapping wrap: (LocalChunkStore) -> any ChunkStoring = { $0 }) async throws -> Node {
            let directory = TemporaryDirectory()
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            var options = testOptions()
            options.freeSpaceFloorBytes = 0
            let store = try await LocalChunkStore.open(directory: directory.path, options: options)
            let served = wrap(store)
            let server = BlobServer(
                store: served, nodeID: nodeID, secret: BlobNetworkTests.secret, group: group,
                logger: BlobNetworkTests.quietLogger
            ) { () throws(BlobError) in (try store.freeSpaceBytes(), store.stats().liveChunkCount) }
            let port = try await server.start(host: "127.0.0.1", port: 0)
            return Node(directory: directory, group: group, store: store, server: server, port: port)
        }

        func client(
            secret: ClusterSecret = BlobNetworkTests.secret, connectionsMax: Int = 4, deadline: Duration = .seconds(10)
        ) throws -> RemoteChunkStore {
            var options = RemoteChunkStore.Options()
            options.connectionsMax = connectionsMax
            options.requestDeadline = deadline
            options.logger = BlobNetworkTests.quietLogger
            return try RemoteChunkStore(host: "127.0.0.1", port: self.port, secret: secret, group: self.group, options: options)
        }

        func stop() async throws {
            await self.server.stop()
            await self.store.close()
            try await self.group.shutdownGracefully()
            self.directory.remove()
        }
    }

    /// Whether `body` throws `.unavailable` (with any message).
    static func isUnavailable(_ body: () async throws -> Void) async -> Bool {
        do {
            try await body()
            return false
        } catch {
            if case .unavailable = error as? BlobError { return true }
            return false
        }
    }

    @Test func putGetDeleteChunksAndStatRoundTrip() async throws {
        let node = try await Node.start()
        let client = try node.client()
        let big = chunkBytes(1, count: 1 << 20)
        try await client.write(1, big)
        try await client.write(2, chunkBytes(2, count: 10))
        try await client.write(3, ByteBuffer())
        try await client.write(1, big)  // a retry of the same bytes is a no-op
        #expect(try await client.read(1, offset: 0, length: 1 << 20) == big)
        #expect(try await client.read(1, offset: 12_345, length: 100) == big.getSlice(at: 12_345, length: 100))
        #expect(try await client.read(1, offset: 1 << 20, length: 0).readableBytes == 0)
        #expect(try await client.read(3, offset: 0, length: 0).readableBytes == 0)
        // The store's errors arrive as the same cases.
        #expect(await throwsBlobError(.rangeOutOfBounds(2)) { try await client.read(2, offset: 5, length: 6) })
        #expect(await throwsBlobError(.rangeOutOfBounds(2)) { try await client.read(2, offset: -1, length: 1) })
        #expect(await throwsBlobError(.chunkNotFound(9)) { try await client.read(9, offset: 0, length: 1) })
        #expect(await throwsBlobError(.conflictingRewrite(2)) { try await client.write(2, chunkBytes(3, count: 10)) })
        let tooLarge = ByteBuffer(repeating: 0, count: Limits.chunkSizeBytesMax + 1)
        #expect(
            await throwsBlobError(.chunkTooLarge(bytes: Limits.chunkSizeBytesMax + 1, max: Limits.chunkSizeBytesMax)) {
                try await client.write(4, tooLarge)
            })

        let future = LocalChunkStore.systemTimeMs() + 60_000
        #expect(try await client.chunks(writtenBeforeTime: future, after: nil, limit: 10) == [1, 2, 3])
        #expect(try await client.chunks(writtenBeforeTime: future, after: 1, limit: 1) == [2])
        #expect(try await client.chunks(writtenBeforeTime: 0, after: nil, limit: 10) == [])
        var status = try await client.stat()
        #expect(status.nodeID == 7)
        #expect(status.chunkCount == 3)
        #expect(status.freeBytes > 0)

        try await client.delete([2, 3, 99])
        #expect(await throwsBlobError(.chunkNotFound(2)) { try await client.read(2, offset: 0, length: 1) })
        #expect(node.store.stats().liveChunkCount == 1)
        status = try await client.stat()
        #expect(status.chunkCount == 1)
        try await client.ping()

        await client.close()
        #expect(await Self.isUnavailable { try await client.ping() })
        try await node.stop()
    }

    /// Goal: many callers share a small pool safely. Method: 64 tasks each write and read back their own
    /// chunks through 4 connections; every byte must come back and the server must see at most 4 connections.
    @Test func concurrentCallersShareThePool() async throws {
        let node = try await Node.start()
        let client = try node.client(connectionsMax: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                group.addTask {
                    for round in 0..<4 {
                        let id = UInt128(task * 100 + round)
                        let bytes = chunkBytes(UInt64(id), count: 1000 + task * 97)
                        try await client.write(id, bytes)
                        let back = try await client.read(id, offset: 0, length: bytes.readableBytes)
                        #expect(back == bytes, "chunk \(id)")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(node.store.stats().liveChunkCount == 256)
        #expect(node.server.connectionCount <= 4)
        #expect(try await client.chunks(writtenBeforeTime: .max, after: nil, limit: 1000).count == 256)
        // Deletes longer than one request are split.
        let all = (0..<64).flatMap { task in (0..<4).map { UInt128(task * 100 + $0) } }
        try await client.delete(all + Array(repeating: 1, count: Limits.wireDeleteChunkIDsMax))
        #expect(node.store.stats().liveChunkCount == 0)
        await client.close()
        try await node.stop()
    }

    @Test func aWrongSecretIsRefused() async throws {
        let node = try await Node.start()
        let stranger = try node.client(secret: try ClusterSecret("another-secret-0123456789"))
        do {
            try await stranger.write(1, chunkBytes(1, count: 10))
            Issue.record("a client with the wrong secret wrote")
        } catch {
            guard case .unavailable(let message) = error else {
                Issue.record("expected .unavailable, got \(error)")
                return
            }
            #expect(message.contains("secret"), "message: \(message)")
        }
        #expect(node.store.stats().liveChunkCount == 0)
        // The right secret still works on the same server.
        let friend = try node.client()
        try await friend.write(1, chunkBytes(1, count: 10))
        await stranger.close()
        await friend.close()
        try await node.stop()
    }

    /// Goal: a node that goes away costs a quick `.unavailable`, not a hang. Method: stop the server under a
    /// connected client, then call with a 30 s deadline and require an answer within 5 s.
    @Test func aStoppedServerGivesUnavailableQuickly() async throws {
        let node = try await Node.start()
        let client = try node.client(deadline: .seconds(30))
        try await client.write(1, chunkBytes(1, count: 10))
        await node.server.stop()
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await Self.isUnavailable { _ = try await client.read(1, offset: 0, length: 10) })
        #expect(await Self.isUnavailable { try await client.ping() })
        #expect(clock.now - start < .seconds(5))
        await client.close()
        await node.store.close()

        // Nothing listening at all: connection refused.
        let refused = try RemoteChunkStore(
            host: "127.0.0.1", port: node.port, secret: Self.secret, group: node.group)
        let refusedStart = clock.now
        #expect(await Self.isUnavailable { try await refused.ping() })
        #expect(clock.now - refusedStart < .seconds(5))
        await refused.close()
        try await node.stop()
    }

    /// Goal: a request the node never answers fails at its deadline, and the connection is replaced.
    @Test func aStuckRequestFailsAtItsDeadline() async throws {
        let gate = Gate()
        let node = try await Node.start { SlowStore(inner: $0, gate: gate) }
        let client = try node.client(connectionsMax: 1, deadline: .seconds(2))
        try await client.write(1, chunkBytes(1, count: 10))
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await Self.isUnavailable { _ = try await client.read(1, offset: 0, length: 10) })
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(1900) && elapsed < .seconds(12), "\(elapsed)")
        // The next request opens a new connection and succeeds.
        try await client.ping()
        await client.close()
        // Let the abandoned read finish in the store before the store and the event loops go away.
        gate.open()
        #expect(await gate.waitForPassages(1, within: .seconds(10)))
        try await node.stop()
    }

    /// Goal: replies are matched by id, so a slow request does not hold up the ones behind it on the same
    /// connection. Method: one connection, a read held in the store, then a ping that must finish first.
    @Test func repliesMayOvertakeASlowRequest() async throws {
        let gate = Gate()
        let node = try await Node.start { SlowStore(inner: $0, gate: gate) }
        let client = try node.client(connectionsMax: 1)
        try await client.write(1, chunkBytes(1, count: 10))
        let order = CompletionOrder()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let bytes = try await client.read(1, offset: 0, length: 10)
                #expect(bytes == chunkBytes(1, count: 10))
                order.append("read")
            }
            group.addTask {
                // The read is in the store (held at the gate) before the ping goes out on the same connection.
                #expect(await gate.waitForArrivals(1, within: .seconds(10)))
                try await client.ping()
                order.append("ping")
                gate.open()
            }
            try await group.waitForAll()
        }
        #expect(order.names == ["ping", "read"])
        await client.close()
        try await node.stop()
    }

    /// Goal: garbage from a peer closes that connection and nothing else. Method: a raw socket sends, before
    /// authenticating, a header announcing a chunk-sized frame; the server must close it at once (not wait
    /// for 64 MiB), and a real client must still be served.
    @Test func aMalformedFrameClosesOnlyItsConnection() async throws {
        let node = try await Node.start()
        let raw = try await ClientBootstrap(group: node.group).connect(host: "127.0.0.1", port: node.port).get()
        var garbage = ByteBuffer()
        // Within the chunk-sized bound, but not as a first frame: refused before it is buffered.
        garbage.writeInteger(UInt32(Limits.wireFrameBytesMax))
        garbage.writeBytes([1, 2, 3, 4, 5, 6, 7, 8])
        try await raw.writeAndFlush(garbage)
        let closed = raw.closeFuture
        let timeout = raw.eventLoop.scheduleTask(in: .seconds(5)) { raw.close(promise: nil) }
        let clock = ContinuousClock()
        let start = clock.now
        try? await closed.get()
        timeout.cancel()
        #expect(clock.now - start < .seconds(4), "the server did not close a connection that sent garbage")
        let client = try node.client()
        try await client.write(1, chunkBytes(1, count: 10))
        #expect(try await client.read(1, offset: 0, length: 10) == chunkBytes(1, count: 10))
        await client.close()
        try await node.stop()
    }

    @Test func clientOptionsAreChecked() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var options = RemoteChunkStore.Options()
        options.connectionsMax = 0
        #expect(throws: BlobError.self) {
            try RemoteChunkStore(host: "127.0.0.1", port: 1, secret: Self.secret, group: group, options: options)
        }
        #expect(throws: BlobError.self) {
            try RemoteChunkStore(host: "127.0.0.1", port: 0, secret: Self.secret, group: group)
        }
        try await group.shutdownGracefully()
    }
}

/// A store whose reads wait at a gate first: a stuck disk, for the deadline and ordering tests.
struct SlowStore: ChunkStoring {
    let inner: LocalChunkStore
    let gate: Gate

    func write(_ chunkID: UInt128, _ bytes: ByteBuffer) async throws(BlobError) {
        try await self.inner.write(chunkID, bytes)
    }

    func read(_ chunkID: UInt128, offset: Int, length: Int) async throws(BlobError) -> ByteBuffer {
        await self.gate.pass()
        return try await self.inner.read(chunkID, offset: offset, length: length)
    }

    func delete(_ chunkIDs: [UInt128]) async throws(BlobError) {
        try await self.inner.delete(chunkIDs)
    }

    func chunks(writtenBeforeTime: Int64, after: UInt128?, limit: Int) async throws(BlobError) -> [UInt128] {
        try await self.inner.chunks(writtenBeforeTime: writtenBeforeTime, after: after, limit: limit)
    }
}

/// Holds callers of `pass()` until `open()`, counting who arrived and who got through.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var arrivals = 0
        var passages = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = self.state.withLock { state in
                state.arrivals += 1
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
        self.state.withLock { $0.passages += 1 }
    }

    func open() {
        let waiters = self.state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether `count` callers arrived (passed) within `limit`; polls, so the wait is bounded.
    func waitForArrivals(_ count: Int, within limit: Duration) async -> Bool {
        await self.poll(within: limit) { $0.arrivals >= count }
    }

    func waitForPassages(_ count: Int, within limit: Duration) async -> Bool {
        await self.poll(within: limit) { $0.passages >= count }
    }

    private func poll(within limit: Duration, _ condition: (State) -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            if self.state.withLock({ condition($0) }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}

/// The order in which concurrent calls finished.
final class CompletionOrder: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ name: String) { self.state.withLock { $0.append(name) } }
    var names: [String] { self.state.withLock { $0 } }
}
