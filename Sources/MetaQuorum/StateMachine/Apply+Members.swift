import MetaContract

/// The metadata RPC addresses group members publish (`setMemberAddress`, table `meta_members`), read back by
/// each replica's status so that gateways find members added after they started.
extension MetaStateMachine {
    /// Records (or, with nil, forgets) `member`'s address. Raft's membership decides who is a member; this
    /// table only says where a member serves gateways, and gateways ignore entries of non-members.
    func applySetMemberAddress(member: UInt64, apiAddress: String?) throws {
        guard let id = Int64(exactly: member), id > 0 else {
            throw MetaError.invalidArgument("member id \(member) out of range")
        }
        if let apiAddress {
            guard !apiAddress.isEmpty, apiAddress.utf8.count <= MetaLimits.memberAddressBytesMax else {
                throw MetaError.invalidArgument("member address of \(apiAddress.utf8.count) bytes")
            }
            try database.run(
                "INSERT INTO meta_members(id, api_address) VALUES (?, ?) "
                    + "ON CONFLICT(id) DO UPDATE SET api_address = excluded.api_address",
                [.int(id), .string(apiAddress)])
        } else {
            try database.run("DELETE FROM meta_members WHERE id = ?", [.int(id)])
        }
    }

    /// Every published address, by member id.
    func memberAddresses() throws -> [UInt64: String] {
        let rows = try database.rows("SELECT id, api_address FROM meta_members") { row in
            (UInt64(bitPattern: row.int64(0)), row.string(1))
        }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }
}
