/// Where a blob node stands in the cluster map (`blob_nodes.state`).
///
/// `up` takes new chunks in proportion to its weight. `down` (silent past `BlobMapLimits.heartbeatSilenceMax`,
/// decided by the metadata leader) and `draining` (an operator's `silo admin cluster blob drain`) take no new
/// chunks but still serve the ones recorded on them. `removed` is final: the id is never placed on again and
/// cannot register again.
public enum BlobNodeState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case up = 1
    case down = 2
    case draining = 3
    case removed = 4

    public var description: String {
        switch self {
        case .up: "up"
        case .down: "down"
        case .draining: "draining"
        case .removed: "removed"
        }
    }

    /// Parses `description`.
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = state
    }

    /// Whether placement gives the node new chunks (its ring weight is its own, else 0).
    public var takesNewChunks: Bool { self == .up }
}

/// What a blob node says about itself when it registers (`registerBlobNode`, command kind 70): where it
/// serves the chunk protocol, its failure domain, its weight in the ring and the bytes its disks hold.
public struct BlobNodeRegistration: Sendable, Equatable {
    /// The id chunk references name (`ChunkRef.nodes`).
    public var id: UInt32
    /// The chunk protocol address, HOST:PORT.
    public var address: String
    /// The failure domain (rack, room), nil for none.
    public var zone: String?
    /// Ring weight, 0...`BlobMapLimits.weightMax`.
    public var weight: Int
    /// Total bytes of the node's data disks.
    public var capacityBytes: UInt64

    public init(id: UInt32, address: String, zone: String?, weight: Int, capacityBytes: UInt64) {
        self.id = id
        self.address = address
        self.zone = zone
        self.weight = weight
        self.capacityBytes = capacityBytes
    }
}

/// One row of `blob_nodes`: a registered blob node as the replicated metadata knows it.
public struct BlobNodeRecord: Sendable, Equatable {
    public var id: UInt32
    public var address: String
    public var zone: String?
    /// The registered weight; placement uses it only while `state.takesNewChunks`.
    public var weight: Int
    public var capacityBytes: UInt64
    public var state: BlobNodeState
    /// Command time (ms since the Unix epoch) of the last change of the row.
    public var changedTime: Int64

    public init(
        id: UInt32, address: String, zone: String?, weight: Int, capacityBytes: UInt64,
        state: BlobNodeState, changedTime: Int64
    ) {
        self.id = id
        self.address = address
        self.zone = zone
        self.weight = weight
        self.capacityBytes = capacityBytes
        self.state = state
        self.changedTime = changedTime
    }

    /// The weight placement gives the node: its own while up, 0 otherwise (down, draining, removed).
    public var placementWeight: Int { state.takesNewChunks ? weight : 0 }
}

/// The whole blob cluster map: every registered node, ascending by id, and the ring epoch.
///
/// Promises: `epoch` increases by one with every applied change that alters placement (a node added, an
/// address, zone, weight or state changed) and never otherwise, so two maps with the same epoch place every
/// chunk alike. Epoch 0 is the empty map before any registration. Read with the query `blobMap` (tag 70).
public struct BlobMap: Sendable, Equatable {
    public var epoch: UInt64
    public var nodes: [BlobNodeRecord]

    public init(epoch: UInt64, nodes: [BlobNodeRecord]) {
        self.epoch = epoch
        self.nodes = nodes
    }

    public func node(_ id: UInt32) -> BlobNodeRecord? {
        nodes.first { $0.id == id }
    }
}

/// What a registered blob node reports every `BlobMapLimits.heartbeatInterval` to the metadata leader (the
/// RPC operation `heartbeat`, never a log entry): that it is alive, its disks' capacity and free bytes, and
/// whether its stores are healthy. The leader keeps the last one in memory (`BlobLiveness`).
public struct BlobHeartbeat: Sendable, Equatable {
    public var node: UInt32
    public var capacityBytes: UInt64
    public var freeBytes: UInt64
    /// False when the node's stores refuse writes (a full disk, a failed volume).
    public var healthy: Bool

    public init(node: UInt32, capacityBytes: UInt64, freeBytes: UInt64, healthy: Bool) {
        self.node = node
        self.capacityBytes = capacityBytes
        self.freeBytes = freeBytes
        self.healthy = healthy
    }

    package func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 24)
        writer.writeVarint(UInt64(node))
        writer.writeVarint(capacityBytes)
        writer.writeVarint(freeBytes)
        writer.writeBool(healthy)
        return writer.bytes
    }

    package init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        node = try reader.readNodeID()
        capacityBytes = try reader.readVarint()
        freeBytes = try reader.readVarint()
        healthy = try reader.readBool()
        try reader.expectEnd()
    }
}

extension ByteWriter {
    package mutating func write(_ registration: BlobNodeRegistration) {
        writeVarint(UInt64(registration.id))
        writeString(registration.address)
        write(registration.zone)
        writeInt(registration.weight)
        writeVarint(registration.capacityBytes)
    }

    package mutating func write(_ map: BlobMap) {
        writeVarint(map.epoch)
        writeCount(map.nodes.count)
        for node in map.nodes {
            writeVarint(UInt64(node.id))
            writeString(node.address)
            write(node.zone)
            writeInt(node.weight)
            writeVarint(node.capacityBytes)
            writeByte(node.state.rawValue)
            writeInt(node.changedTime)
        }
    }
}

extension ByteReader {
    package mutating func readNodeID() throws(MetaCodecError) -> UInt32 {
        let raw = try readVarint()
        guard let id = UInt32(exactly: raw) else { throw .invalidValue("blob node id \(raw)") }
        return id
    }

    package mutating func readBlobNodeState() throws(MetaCodecError) -> BlobNodeState {
        let raw = try readByte()
        guard let state = BlobNodeState(rawValue: raw) else { throw .invalidTag(raw) }
        return state
    }

    package mutating func readRegistration() throws(MetaCodecError) -> BlobNodeRegistration {
        BlobNodeRegistration(
            id: try readNodeID(), address: try readString(), zone: try readOptionalString(),
            weight: try readInt(), capacityBytes: try readVarint())
    }

    package mutating func readBlobMap() throws(MetaCodecError) -> BlobMap {
        let epoch = try readVarint()
        let count = try readCount(elementBytesMin: 7)
        var nodes: [BlobNodeRecord] = []
        nodes.reserveCapacity(count)
        for _ in 0..<count {
            nodes.append(
                BlobNodeRecord(
                    id: try readNodeID(), address: try readString(), zone: try readOptionalString(),
                    weight: try readInt(),
                    capacityBytes: try readVarint(), state: try readBlobNodeState(), changedTime: try readInt64()))
        }
        return BlobMap(epoch: epoch, nodes: nodes)
    }
}

/// One blob node's last heartbeat as the metadata leader holds it, and how long ago it arrived.
public struct BlobHeartbeatReport: Sendable, Equatable {
    public var heartbeat: BlobHeartbeat
    public var ageMilliseconds: UInt64

    package init(heartbeat: BlobHeartbeat, ageMilliseconds: UInt64) {
        self.heartbeat = heartbeat
        self.ageMilliseconds = ageMilliseconds
    }
}

/// The answer of the metadata RPC operation `blobReports`: the leader's in-memory heartbeat table.
package struct BlobHeartbeatReports: Sendable, Equatable {
    package var reports: [BlobHeartbeatReport]

    package init(_ reports: [BlobHeartbeatReport]) {
        self.reports = reports
    }

    package func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 16 + 24 * reports.count)
        writer.writeCount(reports.count)
        for report in reports {
            writer.writeBytes(report.heartbeat.encode())
            writer.writeVarint(report.ageMilliseconds)
        }
        return writer.bytes
    }

    package init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        let count = try reader.readCount(elementBytesMin: 6)
        var reports: [BlobHeartbeatReport] = []
        reports.reserveCapacity(count)
        for _ in 0..<count {
            let heartbeat = try BlobHeartbeat(decoding: try reader.readBytes())
            reports.append(BlobHeartbeatReport(heartbeat: heartbeat, ageMilliseconds: try reader.readVarint()))
        }
        try reader.expectEnd()
        self.reports = reports
    }
}
