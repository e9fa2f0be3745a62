/// The seam between the metadata service and the log that orders its commands.
///
/// Today `LocalMetaLog` is a log of one voter: a proposal is committed at the next index as soon as the
/// state machine thread takes it, and applied in the same transaction (group commit). RaftKit's
/// replicated log will implement the same protocol: `propose` appends to the Raft log, waits for the
/// entry to be committed by a quorum and applied locally, and returns the applier's result; `read` will
/// do ReadIndex (the leader confirms its leadership with a heartbeat round, records its commit index,
/// and the body runs once the local state machine has applied at least that index). No caller changes.
protocol MetaLog: Sendable {
    /// Orders one encoded `MetaCommand`, waits until it is committed, durable and applied, and returns its
    /// outcome. Throws `.unavailable` when the command could not be ordered (queue full, closed, no
    /// quorum) and `.internalFault` for a storage fault; a `.failed` outcome is returned, not thrown.
    func propose(_ command: [UInt8]) async throws(MetaError) -> MetaCommandResult

    /// Runs `body` on the state machine after every proposal that returned before this call was applied
    /// (a linearizable read). `body` runs on the state machine's thread and must not block on anything
    /// but SQLite.
    func read<T: Sendable>(_ body: @escaping @Sendable (MetaStateMachine) throws -> T) async throws(MetaError) -> T

    /// Finishes queued work, closes the database and stops the thread. Later calls fail with `.unavailable`.
    func close() async
}
