@testable import BlobNode
@testable import MetaQuorum
import NIOCore
@testable import RaftKit

/// Targets for bytes that come from peers and from disk: RaftKit's frames and messages (a peer can send
/// anything), its WAL records, MetaQuorum's commands and results (they arrive through the log and over
/// the meta RPC), and the blob volume record header (read back from disk). Internal decoders are reached
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
    ]
    static let blobTargets: [FuzzTarget] = [
        FuzzTarget(name: "blob-record-header", run: { bytes in
            _ = bytes.withUnsafeBytes { RecordHeader.decode($0) }
        }),
    ]

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
