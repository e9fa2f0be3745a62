// raft-bench-node: one RaftKit node for ops/bench/raft. Not a product: a load target only.
//
//   raft-bench-node --id 1 --cluster 1=127.0.0.1:7101,2=127.0.0.1:7102,3=127.0.0.1:7103 \
//                   --client-port 7201 --data /tmp/raft-bench/1
//
// Clients speak RaftKit's frame format on --client-port: a request is a frame whose `from` is the request ID and
// whose payload is the command; the reply is a frame with the same ID and payload [0] (applied), [1, leader]
// (not the leader; leader is the hint, 0 if unknown) or [2] (failed, retry).
import Foundation
import NIOCore
import NIOPosix
import RaftKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's state machine: a map from the command's first 16 bytes to the command (like a KV put),
/// in memory (so it starts empty, at index 0).
final class PutMachine: ReplicatedStateMachine {
    private struct State {
        var values: [[UInt8]: [UInt8]] = [:]
        var applied: UInt64 = 0
    }

    private let state = Mutex(State())

    func appliedIndex() async throws -> UInt64 { state.withLock { $0.applied } }

    func apply(_ entries: [Entry], through index: UInt64) async throws -> [[UInt8]] {
        state.withLock { state in
            state.applied = index
            return entries.map { entry in
                state.values[Array(entry.data.prefix(16))] = entry.data
                return []
            }
        }
    }

    func writeSnapshot(to path: String) async throws {
        try Data(encodedState()).write(to: URL(fileURLWithPath: path))
    }

    func restore(fromFile path: String, at index: UInt64) async throws {
        restore(Array(try Data(contentsOf: URL(fileURLWithPath: path))), at: index)
    }

    private func encodedState() -> [UInt8] {
        // Sorted so equal states give equal bytes.
        let values = state.withLock { $0.values }
        var bytes: [UInt8] = []
        for key in values.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let value = values[key]!
            withUnsafeBytes(of: UInt32(value.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: value)
        }
        return bytes
    }

    private func restore(_ bytes: [UInt8], at index: UInt64) {
        var values: [[UInt8]: [UInt8]] = [:]
        var offset = 0
        while offset + 4 <= bytes.count {
            let count = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
            let value = Array(bytes[(offset + 4)..<(offset + 4 + count)])
            values[Array(value.prefix(16))] = value
            offset += 4 + count
        }
        state.withLock { $0 = State(values: values, applied: index) }
    }
}

struct ClientFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = TransportFrame
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameCodec.decode(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

final class ClientHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = TransportFrame
    let driver: RaftDriver<PutMachine>

    init(driver: RaftDriver<PutMachine>) {
        self.driver = driver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        let channel = context.channel
        let driver = self.driver
        Task {
            var reply: [UInt8]
            do {
                _ = try await driver.propose(frame.payload)
                reply = [0]
            } catch DriverError.notLeader(let hint) {
                reply = [1, UInt8(truncatingIfNeeded: hint ?? 0)]
            } catch {
                reply = [2]
            }
            var buffer = channel.allocator.buffer(capacity: 16)
            FrameCodec.encode(TransportFrame(from: frame.from, payload: reply), into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        }
    }
}

func argument(_ name: String) -> String {
    let arguments = CommandLine.arguments
    guard let position = arguments.firstIndex(of: name), position + 1 < arguments.count else {
        fatalError("missing \(name)")
    }
    return arguments[position + 1]
}

let id = UInt64(argument("--id"))!
var members: [UInt64: PeerAddress] = [:]
for item in argument("--cluster").split(separator: ",") {
    let parts = item.split(separator: "=")
    let address = parts[1].split(separator: ":")
    members[UInt64(parts[0])!] = PeerAddress(host: String(address[0]), port: Int(address[1])!)
}
var raft = Config(id: id, randomSeed: id &* 0x9E37_79B9)
raft.electionTimeoutTicks = 100  // 1 s at 10 ms ticks, as etcd's default election timeout
raft.heartbeatIntervalTicks = 10  // 100 ms, as etcd's default heartbeat
var configuration = RaftServerConfiguration(raft: raft, members: members, dataDirectory: argument("--data"))
configuration.driver.tickInterval = .milliseconds(10)
let group = MultiThreadedEventLoopGroup.singleton
let server = try await RaftServer.start(configuration: configuration, machine: PutMachine(), group: group)
let driver = server.driver
_ = try await ServerBootstrap(group: group)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ClientFrameDecoder()))
            try channel.pipeline.syncOperations.addHandler(ClientHandler(driver: driver))
        }
    }
    .bind(host: "127.0.0.1", port: Int(argument("--client-port"))!).get()
print("raft-bench-node \(id) ready")
fflush(nil)  // nil: all streams, without touching the global `stdout`
while true {
    try await Task.sleep(for: .seconds(2))
    let status = await driver.status
    let wal = server.walStatistics
    print(
        "node \(id) term=\(status.term) role=\(status.role) commit=\(status.commitIndex) applied=\(status.appliedIndex)"
            + " wal_appends=\(wal.appendCount) wal_records=\(wal.recordCount) wal_fsyncs=\(wal.syncCount)")
    fflush(nil)  // nil: all streams, without touching the global `stdout`
}
