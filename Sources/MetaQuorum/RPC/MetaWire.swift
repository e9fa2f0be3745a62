import ClusterAuth
import Foundation
import MetaContract

/// The metadata RPC between a gateway and a metadata node, on RaftKit's frame format (`FrameCodec`:
/// `[length u32][id u64][payload]`), where the id is the caller's request number and replies carry it back,
/// so one connection carries many requests at once, answered in any order.
///
/// Connection: the node first sends a frame with id 0 and a random challenge (`ClusterSecret.makeChallenge`);
/// the caller answers id 0 with `ClusterSecret.answer(to:protocol: MetaWire.challengeProtocol)`; the node closes
/// the connection unless it is valid (constant-time check). The chunk protocol uses the same challenge.
/// Then requests: payload `[op][body]`, `op` a `MetaWire.Operation`; replies: `[status][body]`, `status` a
/// `MetaWire.Status`.
enum MetaWire {
    /// What the cluster-secret challenge answer is bound to.
    static let challengeProtocol = ChallengeProtocol("silo-meta/1")

    enum Operation: UInt8 {
        /// Body: an encoded `MetaCommand`. Ok reply body: an encoded `MetaCommandResult`.
        case propose = 1
        /// Body: an encoded `MetaQuery`. Ok reply body: an encoded `MetaQueryResult`.
        case query = 2
        /// No body. Ok reply body: `NodeStatus` encoded.
        case status = 3
        /// Body: a `MembershipRequest`. Leader only. Ok reply body: empty.
        case membership = 4
        /// Body: an encoded `BlobHeartbeat`. Leader only (else `notLeader`), never a log entry. Ok reply body:
        /// one byte, 1 when the map holds the node, 0 when it must register (again).
        case heartbeat = 5
        /// No body. Ok reply body: `BlobHeartbeatReports` encoded: what this replica, if it leads, last heard
        /// from each blob node (empty on a follower).
        case blobReports = 6
    }

    enum Status: UInt8 {
        case ok = 0
        /// This node does not lead; body: varint leader node id (0: unknown). Definite: nothing was appended.
        case notLeader = 1
        /// Definite refusal, nothing was or will be applied; body: a message.
        case refused = 2
        /// A proposal that may or may not commit; body: a message. Retry with the same bytes.
        case outcomeUnknown = 3
        /// The request could not be parsed or the node failed; body: a message.
        case fault = 4
    }

    static func reply(_ status: Status, _ body: [UInt8]) -> [UInt8] {
        [status.rawValue] + body
    }

    static func reply(_ status: Status, message: String) -> [UInt8] {
        [status.rawValue] + Array(message.utf8)
    }
}

/// A metadata node's view of its group, for `silo admin cluster status` and health checks.
public struct MetaNodeStatus: Sendable, Equatable, Codable {
    public var id: UInt64
    public var term: UInt64
    public var role: String
    public var leaderID: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var voters: [UInt64]
    public var learners: [UInt64]
    /// The metadata RPC address each member published (`silo admin cluster add-learner --api`, or the
    /// member itself at start), as this replica's state machine has applied it. Absent from older nodes.
    public var apiAddresses: [UInt64: String] = [:]

    func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        for value in [id, term, leaderID, commitIndex, appliedIndex] { writer.writeVarint(value) }
        writer.writeString(role)
        for list in [voters, learners] {
            writer.writeCount(list.count)
            for value in list { writer.writeVarint(value) }
        }
        writer.writeCount(apiAddresses.count)
        for (id, address) in apiAddresses.sorted(by: { $0.key < $1.key }) {
            writer.writeVarint(id)
            writer.writeString(address)
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        id = try reader.readVarint()
        term = try reader.readVarint()
        leaderID = try reader.readVarint()
        commitIndex = try reader.readVarint()
        appliedIndex = try reader.readVarint()
        role = try reader.readString()
        var lists: [[UInt64]] = []
        for _ in 0..<2 {
            let count = try reader.readCount(elementBytesMin: 1)
            var list: [UInt64] = []
            for _ in 0..<count { list.append(try reader.readVarint()) }
            lists.append(list)
        }
        voters = lists[0]
        learners = lists[1]
        if reader.remaining > 0 {
            let count = try reader.readCount(elementBytesMin: 2)
            for _ in 0..<count { apiAddresses[try reader.readVarint()] = try reader.readString() }
        }
        try reader.expectEnd()
    }

    init(id: UInt64, term: UInt64, role: String, leaderID: UInt64, commitIndex: UInt64, appliedIndex: UInt64,
         voters: [UInt64], learners: [UInt64], apiAddresses: [UInt64: String] = [:]) {
        self.id = id
        self.term = term
        self.role = role
        self.leaderID = leaderID
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.voters = voters
        self.learners = learners
        self.apiAddresses = apiAddresses
    }
}

/// A change of the metadata group, for `silo admin cluster`: sent to the leader, applied through Raft.
public enum MembershipRequest: Sendable, Equatable {
    /// Add a non-voting member that listens for Raft at `raftAddress` (it catches up, then is promoted).
    case addLearner(UInt64, raftAddress: String)
    case promote(UInt64)
    case remove(UInt64)
    case transferLeadership(to: UInt64)

    func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 32)
        switch self {
        case .addLearner(let id, let address):
            writer.writeByte(1)
            writer.writeVarint(id)
            writer.writeString(address)
        case .promote(let id):
            writer.writeByte(2)
            writer.writeVarint(id)
        case .remove(let id):
            writer.writeByte(3)
            writer.writeVarint(id)
        case .transferLeadership(let id):
            writer.writeByte(4)
            writer.writeVarint(id)
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        switch try reader.readByte() {
        case 1: self = .addLearner(try reader.readVarint(), raftAddress: try reader.readString())
        case 2: self = .promote(try reader.readVarint())
        case 3: self = .remove(try reader.readVarint())
        case 4: self = .transferLeadership(to: try reader.readVarint())
        case let tag: throw .invalidTag(tag)
        }
        try reader.expectEnd()
    }
}

extension Duration {
    /// Whole nanoseconds, saturating (metrics timers take `Int64`).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : whole &+ attoseconds / 1_000_000_000
    }
}
