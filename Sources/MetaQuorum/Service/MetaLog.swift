import MetaContract

/// The seam between the metadata service (`EmbeddedMetadataService`, which builds commands and queries) and
/// what orders and answers them: a replica in this process (`RaftMetaLog`: `silo server`, `silo meta`) or
/// the replicas of a remote group (`RemoteMetaLog`: `silo gateway`). No caller of `MetadataService` can tell
/// which.
protocol MetaLog: Sendable {
    /// Orders one encoded `MetaCommand`, waits until it is committed, durable and applied, and returns its
    /// outcome. Throws `.unavailable` when the command certainly did not and will not take effect (no
    /// leader, refused, closed), `.outcomeUnknown` when it may still, and `.internalFault` for a fault; a
    /// `.failed` outcome is returned, not thrown.
    func propose(_ command: [UInt8]) async throws(MetaError) -> MetaCommandResult

    /// Answers `query` linearizably: it sees every proposal that returned before this call.
    func query(_ query: MetaQuery) async throws(MetaError) -> MetaQueryResult

    /// Stops answering; later calls fail with `.unavailable`.
    func close() async
}
