@testable import BlobNode
@testable import MetaQuorum
import NIOCore
@testable import RaftKit

/// Targets for bytes that come from peers and from disk: RaftKit's frames and messages (a peer can send
/// anything), its WAL records, MetaQuorum's commands and results (they arrive through the log and over
/// the meta RPC), the blob volume record header (read back from disk) and the blob chunk protocol's frames. Internal decoders are reached
/// with `@testable import`, so this executable is built in debug configurations only.
extension FuzzTargets {
    static let consensusTargets: [FuzzTarget] = [
        FuzzTarget(name: "raft-frame", run: raftFrame),
        FuzzTarget(name: "raft-message", run: raftMessage),
        FuzzTarget(name: "raft-wal-record", run: walRecords),
    ]
    static let metadataTargets: [FuzzTarget] = [
        FuzzTarget(name: "meta-command", run: { bytes in
            _ = try? MetaCommand(decoding: bytes)
            _ = try? MetaCommandResult(decoding: bytes)
        }),
        // What a metadata node decodes from a gateway (and a gateway from a node) over the metadata RPC.
        FuzzTarget(name: "meta-rpc", run: { bytes in
            _ = try? MetaQuery(decoding: bytes)
            _ = try? MetaQueryResult(decoding: bytes)
            _ = try? MembershipRequest(decoding: bytes)
            _ = try? MetaNodeStatus(decoding: bytes)
            _ = try? BlobHeartbeat(decoding: bytes)
            _ = try? BlobHeartbeatReports(decoding: bytes)
        }),
    ]
    static let blobTargets: [FuzzTarget] = [
        FuzzTarget(name: "blob-record-header", run: { bytes in
            _ = bytes.withUnsafeBytes { RecordHeader.decode($0) }
        }),
        FuzzTarget(name: "blob-wire", run: blobWire),
    ]

    /// A TCP byte stream of the chunk protocol, cut into frames as a blob server reads requests and as a
    /// client reads replies. A decoded request must encode to the same frame again; a decoded reply must
    /// encode to a frame that decodes (error messages may be cut, so not always to the same one).
    static func blobWire(_ bytes: [UInt8]) {
        let allocator = ByteBufferAllocator()
        var requests = ByteBuffer(bytes: bytes)
        while let frame = try? BlobWire.decodeRequest(&requests) {
            var again = BlobWire.encode(frame.message, requestID: frame.requestID, allocator: allocator).joined
            precondition((try? BlobWire.decodeRequest(&again)) == frame, "request does not round-trip")
        }
        var replies = ByteBuffer(bytes: bytes)
        while let frame = try? BlobWire.decodeReply(&replies) {
            var again = BlobWire.encode(frame.message, requestID: frame.requestID, allocator: allocator).joined
            precondition((try? BlobWire.decodeReply(&again)) != nil, "reply does not encode to a frame")
        }
    }

    /// A TCP byte stream cut into frames, each frame's payload decoded as a message, as the transport does.
    static func raftFrame(_ bytes: [UInt8]) {
        var buffer = ByteBuffer(bytes: bytes)
        while true {
            guard let frame = try? FrameCodec.decode(&buffer) else { return }
            _ = try? Message(decoding: frame.payload)
        }
    }

    /// Every RaftKit value with a wire or disk encoding; a decoded message must encode again.
    static func raftMessage(_ bytes: [UInt8]) {
        if let message = try? Message(decoding: bytes) {
            var again: [UInt8] = []
            message.encode(into: &again)
            precondition((try? Message(decoding: again)) == message, "message does not round-trip")
        }
        _ = try? Entry(decoding: bytes)
        _ = try? HardState(decoding: bytes)
        _ = try? ConfState(decoding: bytes)
        _ = try? ConfChangeRecord(decoding: bytes)
        _ = try? SnapshotMetadata(decoding: bytes)
    }

    /// A WAL segment read back after a crash: records one after the other until the first bad one.
    static func walRecords(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            guard case .record(_, let next) = WALRecordCodec.decode(bytes, at: offset) else { return }
            precondition(next > offset, "WAL decoding did not advance at \(offset)")
            offset = next
        }
    }
}
