import CSQLite
import MetaContract

/// The blob cluster map: which blob nodes exist, where they serve, and whether placement may use them
/// (`blob_nodes`, `meta.blob_epoch`). Written by the commands of kinds 70–72, read by the query `blobMap`.
///
/// Invariant: `meta.blob_epoch` grows by exactly one in every applied command that changes a placement input
/// (a new row, or a changed address, zone, weight or state) and in no other; a capacity-only update leaves it.
extension MetaStateMachine {
    /// Inserts or updates a node's row (see `MetaCommand.registerBlobNode`).
    func applyRegisterBlobNode(_ node: BlobNodeRegistration, time: Int64) throws {
        try validate(node)
        if let existing = try blobNode(node.id) {
            if existing.state == .removed { throw MetaError.blobNodeRemoved(node.id) }
            var updated = existing
            updated.address = node.address
            updated.zone = node.zone
            updated.weight = node.weight
            updated.capacityBytes = node.capacityBytes
            if updated.state == .down { updated.state = .up }
            let placementChanged =
                updated.address != existing.address || updated.zone != existing.zone
                || updated.weight != existing.weight || updated.state != existing.state
            guard placementChanged || updated.capacityBytes != existing.capacityBytes else { return }
            updated.changedTime = time
            try storeBlobNode(updated)
            if placementChanged { try bumpBlobEpoch() }
            return
        }
        let count = try database.firstRow("SELECT count(*) FROM blob_nodes") { $0.int64(0) } ?? 0
        guard count < BlobMapLimits.nodesMax else {
            throw MetaError.invalidArgument("the cluster map holds \(count) blob nodes, the most it may")
        }
        try storeBlobNode(
            BlobNodeRecord(
                id: node.id, address: node.address, zone: node.zone, weight: node.weight,
                capacityBytes: node.capacityBytes, state: .up, changedTime: time))
        try bumpBlobEpoch()
    }

    /// An operator's state change (see `MetaCommand.setBlobNodeState`).
    func applySetBlobNodeState(node id: UInt32, state: BlobNodeState, time: Int64) throws {
        guard var node = try blobNode(id) else { throw MetaError.noSuchBlobNode(id) }
        guard node.state != state else { return }
        if node.state == .removed { throw MetaError.blobNodeRemoved(id) }
        node.state = state
        node.changedTime = time
        try storeBlobNode(node)
        try bumpBlobEpoch()
    }

    /// The leader's liveness decision (see `MetaCommand.setBlobNodeLiveness`). Only up ↔ down: an operator's
    /// `draining` or `removed` outlives a node's silence and its return.
    func applySetBlobNodeLiveness(node id: UInt32, alive: Bool, time: Int64) throws {
        guard var node = try blobNode(id) else { throw MetaError.noSuchBlobNode(id) }
        switch (node.state, alive) {
        case (.up, false): node.state = .down
        case (.down, true): node.state = .up
        default: return
        }
        node.changedTime = time
        try storeBlobNode(node)
        try bumpBlobEpoch()
    }

    /// The whole map, nodes ascending by id.
    func blobMap() throws -> BlobMap {
        let rows = try database.rows(
            "SELECT id, address, zone, weight, capacity_bytes, state, changed_time FROM blob_nodes ORDER BY id",
            [], Self.blobNodeRow)
        var nodes: [BlobNodeRecord] = []
        nodes.reserveCapacity(rows.count)
        for row in rows { nodes.append(try Self.blobNode(from: row)) }
        return BlobMap(epoch: UInt64(bitPattern: try metaValue("blob_epoch")), nodes: nodes)
    }

    // MARK: Rows

    private typealias BlobNodeRow = (
        id: Int64, address: String, zone: String?, weight: Int64, capacity: Int64,
        state: Int64, changed: Int64
    )

    private static func blobNodeRow(_ row: SQLiteRow) -> BlobNodeRow {
        (
            row.int64(0), row.string(1), row.isNull(2) ? nil : row.string(2), row.int64(3), row.int64(4), row.int64(5),
            row.int64(6)
        )
    }

    private static func blobNode(from row: BlobNodeRow) throws -> BlobNodeRecord {
        guard let id = UInt32(exactly: row.id),
            let state = BlobNodeState(rawValue: UInt8(truncatingIfNeeded: row.state)),
            Int64(state.rawValue) == row.state, let weight = Int(exactly: row.weight)
        else {
            throw SQLiteError(code: SQLITE_CORRUPT, message: "blob_nodes row \(row.id) has state \(row.state)")
        }
        return BlobNodeRecord(
            id: id, address: row.address, zone: row.zone, weight: weight,
            capacityBytes: UInt64(bitPattern: row.capacity), state: state, changedTime: row.changed)
    }

    private func blobNode(_ id: UInt32) throws -> BlobNodeRecord? {
        guard
            let row = try database.firstRow(
                "SELECT id, address, zone, weight, capacity_bytes, state, changed_time FROM blob_nodes WHERE id = ?",
                [.int(Int64(id))], Self.blobNodeRow)
        else { return nil }
        return try Self.blobNode(from: row)
    }

    private func storeBlobNode(_ node: BlobNodeRecord) throws {
        try database.run(
            """
            INSERT INTO blob_nodes(id, address, zone, weight, capacity_bytes, state, changed_time)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET address = excluded.address, zone = excluded.zone, weight = excluded.weight,
                capacity_bytes = excluded.capacity_bytes, state = excluded.state, changed_time = excluded.changed_time
            """,
            [
                .int(Int64(node.id)), .string(node.address), node.zone.map { .string($0) } ?? .null,
                .int(Int64(node.weight)), .int(Int64(bitPattern: node.capacityBytes)), .int(Int64(node.state.rawValue)),
                .int(node.changedTime),
            ])
    }

    private func bumpBlobEpoch() throws {
        let epoch = try metaValue("blob_epoch")
        precondition(epoch >= 0, "blob epoch \(epoch) below zero")
        try setMetaValue("blob_epoch", epoch + 1)
    }

    private func validate(_ node: BlobNodeRegistration) throws {
        guard !node.address.isEmpty, node.address.utf8.count <= BlobMapLimits.addressBytesMax else {
            throw MetaError.invalidArgument("blob node address of \(node.address.utf8.count) bytes")
        }
        if let zone = node.zone, zone.isEmpty || zone.utf8.count > BlobMapLimits.zoneBytesMax {
            throw MetaError.invalidArgument("blob node zone of \(zone.utf8.count) bytes")
        }
        guard (0...BlobMapLimits.weightMax).contains(node.weight) else {
            throw MetaError.invalidArgument("blob node weight \(node.weight) outside 0...\(BlobMapLimits.weightMax)")
        }
        guard node.capacityBytes <= UInt64(Int64.max) else {
            throw MetaError.invalidArgument("blob node capacity \(node.capacityBytes) bytes")
        }
    }
}
