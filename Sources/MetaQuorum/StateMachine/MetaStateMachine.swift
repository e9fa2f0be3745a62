import CSQLite
import MetaContract

/// Deliberate bugs of the metadata state machine, compiled only into debug builds, that show the
/// simulator's `meta` workload can fail (`silo-sim --workload meta --fault NAME`). Per machine, never global.
public struct MetaFaults: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A repeated command id runs again instead of answering the first outcome (its remembered row is
    /// replaced): a gateway's retry after an unknown outcome then applies a write twice.
    public static let reexecuteRetries = MetaFaults(rawValue: 1 << 0)

    /// Every switch with its name.
    public static let named: [(name: String, fault: MetaFaults)] = [("reexecute-retries", .reexecuteRetries)]
}

/// The deterministic metadata state machine: applies committed `MetaCommand`s to a SQLite database.
///
/// Ownership: one instance per database file, used from exactly one thread for its whole life (`MetaMachine`'s
/// "silo-meta-apply" thread); it is deliberately not `Sendable`.
///
/// Promises:
/// - `apply(batch:)` applies a batch in one SQLite transaction that also stores the last applied log index,
///   so after a crash the database holds exactly the batches that returned (WAL, `synchronous=FULL`: the
///   commit's WAL frames are fsynced before `apply` returns).
/// - Applying the same commands in the same order to the same state gives the same state and results on
///   every replica: no clock, no randomness, no Dictionary iteration; every id and time is in the command.
/// - Preconditions, ownership and existence are decided here, at apply time.
/// - A command whose command id was seen recently gets the first outcome again and changes nothing.
/// A batch failed and so did its rollback: the state machine's connection and counters are no longer
/// known to match the database, so its owner stops applying (and the replica must be restarted).
struct MetaStateMachineStopped: Error, CustomStringConvertible {
    var batchError: String
    var rollbackError: String
    var description: String { "batch failed (\(batchError)) and its rollback failed (\(rollbackError))" }
}

final class MetaStateMachine {
    let database: SQLiteConnection
    let path: String
    /// The log index of the last applied command. Invariant: equals `meta.applied_index` outside `apply`.
    private(set) var appliedIndexValue: UInt64 = 0
    /// The largest command time seen: the clock of request-id expiry.
    var timeHighWater: Int64 = .min
    /// Rows in `requests`. Invariant: equals `SELECT count(*) FROM requests` outside `apply`.
    var requestCount: Int = 0
    /// `MetaLimits.commandIDCountMax`, lowered by tests. Every replica must use the same value.
    var commandIDCountMax = MetaLimits.commandIDCountMax

    /// How a committed batch is made durable.
    enum Durability {
        /// `synchronous=FULL`: each transaction commit fsyncs SQLite's WAL, so a batch that `apply` returned
        /// survives power loss on its own.
        case synchronous
        /// `synchronous=NORMAL`: a commit survives a process crash, and a power loss may take the last
        /// transactions. For a machine under Raft, whose log holds every command durably: the lost batches
        /// are replayed from the log above the applied index the database reports (or a snapshot restored).
        case replayedFromLog
    }

    /// Deliberate bugs (debug builds; empty in release builds, where `init` refuses any).
    private let faults: MetaFaults

    /// Opens (creating if needed) the database at `path`.
    init(path: String, durability: Durability = .synchronous, faults: MetaFaults = []) throws {
        #if !DEBUG
        precondition(faults.isEmpty, "metadata fault switches exist only in debug builds")
        #endif
        self.faults = faults
        self.path = path
        database = try SQLiteConnection(path: path)
        try database.execute("PRAGMA journal_mode=WAL")
        switch durability {
        case .synchronous: try database.execute("PRAGMA synchronous=FULL")
        case .replayedFromLog: try database.execute("PRAGMA synchronous=NORMAL")
        }
        try database.execute("PRAGMA foreign_keys=OFF")
        try createSchemaIfNeeded()
        try loadCounters()
    }

    func close() {
        database.close()
    }

    /// The log index of the last command whose effects are in the database (0: none).
    func appliedIndex() -> UInt64 {
        appliedIndexValue
    }

    private func createSchemaIfNeeded() throws {
        let exists =
            try database.firstRow(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'"
            ) { $0.int64(0) } ?? 0
        if exists == 0 {
            try database.execute("BEGIN IMMEDIATE")
            for statement in MetaSchema.statements { try database.execute(statement) }
            try database.execute("COMMIT")
        }
        var version = try metaValue("schema_version")
        while version < MetaSchema.version {
            try database.execute("BEGIN IMMEDIATE")
            do {
                try migrate(from: version)
                version += 1
                try setMetaValue("schema_version", version)
                try database.execute("COMMIT")
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
        }
        guard version == MetaSchema.version else {
            throw SQLiteError(
                code: SQLITE_MISMATCH,
                message: "schema version \(version) in \(path), this build uses \(MetaSchema.version)")
        }
    }

    /// One migration step, from schema `version` to the next, inside the caller's transaction. Every
    /// replica runs the same steps on the same data, so migrated replicas stay equal.
    private func migrate(from version: Int64) throws {
        switch version {
        case 1:
            // Users get an id; a user from before ids has its name as id, which is what its buckets'
            // `owner` column already holds.
            let rows = try database.rows("SELECT name, record FROM users") { ($0.bytes(0), $0.bytes(1)) }
            for (name, blob) in rows {
                let user = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readUser(format: 1) }
                try database.run("UPDATE users SET record = ? WHERE name = ?",
                                 [.bytes(RecordBlob.encode { $0.write(user) }), .bytes(name)])
            }
        case 2:
            for statement in MetaSchema.usageStatements { try database.execute(statement) }
            try database.execute("""
                INSERT INTO bucket_usage(bucket, bytes, objects)
                SELECT bucket, SUM(size_bytes), COUNT(*) FROM objects WHERE true GROUP BY bucket
                """)
            try database.execute("""
                INSERT INTO bucket_usage(bucket, bytes, objects)
                SELECT uploads.bucket, SUM(parts.size_bytes), 0 FROM parts JOIN uploads USING (upload_id) WHERE true
                GROUP BY uploads.bucket
                ON CONFLICT(bucket) DO UPDATE SET bytes = bytes + excluded.bytes
                """)
        case 3:
            // Object records gain the inline-body field (absent for every existing object). Each record
            // format appends its fields, so a format-1 record is its format-2 form once an absent-body
            // flag (one 0 byte) follows it: the step is an append, not a decode-and-encode with the
            // current encoder (which writes a later format).
            try database.execute("UPDATE objects SET record = record || x'00' WHERE true")
        case 4:
            try migrateToVersioning()
        case 5:
            // Access control: bucket columns (NULL: owner-only ACL, no ownership controls, no policy);
            // object records in format 3 gain an absent owner and an absent ACL (two 0 bytes: private to
            // the bucket owner), upload records an absent ACL (one 0 byte).
            for statement in MetaSchema.accessStatements { try database.execute(statement) }
            try database.execute("UPDATE objects SET record = record || x'0000' WHERE true")
            try database.execute("UPDATE versions SET record = record || x'0000' WHERE true")
            try database.execute("UPDATE uploads SET record = record || x'00' WHERE true")
        case 6:
            for statement in MetaSchema.taggingStatements { try database.execute(statement) }
        case 7:
            // Erasure coding: buckets gain a durability (NULL: the cluster's default). Stored records are
            // unchanged: chunk references mark their own layout, and every existing one is replicated.
            for statement in MetaSchema.durabilityStatements { try database.execute(statement) }
        case 8:
            // Members publish their metadata RPC addresses (an empty table until they do).
            for statement in MetaSchema.memberStatements { try database.execute(statement) }
        case 9:
            // Public access blocks: every existing bucket has none.
            for statement in MetaSchema.publicAccessBlockStatements { try database.execute(statement) }
        case 10:
            // Object lock: no existing bucket has it, so no existing version is locked.
            for statement in MetaSchema.objectLockStatements { try database.execute(statement) }
        case 11:
            // The blob cluster map: no node registered, epoch 0.
            for statement in MetaSchema.blobMapStatements { try database.execute(statement) }
        case 12:
            // Lifecycle: no existing bucket has a configuration.
            for statement in MetaSchema.lifecycleStatements { try database.execute(statement) }
        default:
            throw SQLiteError(code: SQLITE_MISMATCH, message: "no migration from schema version \(version) in \(path)")
        }
    }

    /// Schema 4 → 5, self-contained: buckets gain their versioning state (never enabled), the versions table
    /// and its counter appear, and every stored object becomes the `null` version it always was to S3.
    private func migrateToVersioning() throws {
        try database.execute("ALTER TABLE buckets ADD COLUMN versioning INTEGER NOT NULL DEFAULT 0")
        try database.execute("ALTER TABLE objects ADD COLUMN completed_upload BLOB")
        for statement in MetaSchema.versionStatements { try database.execute(statement) }
        try database.execute("INSERT INTO meta(name, value) VALUES ('version_seq', 0)")
        let rows = try database.rows("SELECT bucket, key, record FROM objects") { ($0.bytes(0), $0.bytes(1), $0.bytes(2)) }
        for (bucket, key, blob) in rows {
            var object = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readObject(format: 2) }
            object.versionID = nullVersionID
            // Schema 5 stores format 2; the access step (5 → 6) appends the format-3 fields.
            try database.run("UPDATE objects SET record = ? WHERE bucket = ? AND key = ?",
                             [.bytes(RecordBlob.encode { $0.write(object, format: 2) }), .bytes(bucket), .bytes(key)])
        }
    }

    func metaValue(_ name: String) throws -> Int64 {
        guard let value = try database.firstRow("SELECT value FROM meta WHERE name = '\(name)'", [], { $0.int64(0) })
        else { throw SQLiteError(code: SQLITE_CORRUPT, message: "meta row \(name) missing in \(path)") }
        return value
    }

    func setMetaValue(_ name: String, _ value: Int64) throws {
        // `name` is one of a few constants, spelled into the SQL: `meta.name` holds TEXT, not BLOB.
        try database.run("UPDATE meta SET value = ? WHERE name = '\(name)'", [.int(value)])
    }

    /// Reloads the cached counters from the database (after open, restore or a rolled-back batch).
    func loadCounters() throws {
        appliedIndexValue = UInt64(bitPattern: try metaValue("applied_index"))
        timeHighWater = try metaValue("time_high_water")
        requestCount = Int(try metaValue("request_count"))
    }

    // MARK: Apply

    /// Applies committed entries in one transaction. `index` values strictly increase and the first exceeds
    /// `appliedIndex()` (gaps are allowed: the log may hold entries that are not commands). An empty
    /// `command` is a no-op entry (Raft's empty entry at the start of a term) and yields `.done`.
    ///
    /// `through` (at least the last entry's index) is the applied index afterwards: under Raft, the last
    /// committed index the batch covers, which may be a no-op or membership entry after the commands; the
    /// batch may then be empty.
    ///
    /// Returns one result per entry. Throws only for a storage fault; then nothing of the batch is applied
    /// and the caller must not advance (with Raft: stop the replica rather than skip the entries). If the
    /// rollback itself fails, the connection may be left inside the transaction with counters that no
    /// longer match the database: it throws `MetaStateMachineStopped`, and the caller must stop applying.
    func apply(batch: [(index: UInt64, command: [UInt8])], through: UInt64? = nil) throws -> [MetaCommandResult] {
        let lastIndex = max(batch.last?.index ?? 0, through ?? 0)
        guard lastIndex > appliedIndexValue else {
            precondition(batch.isEmpty, "apply out of order: batch ending at \(lastIndex) after \(appliedIndexValue)")
            return []
        }
        var previous = appliedIndexValue
        for entry in batch {
            precondition(entry.index > previous, "apply out of order: index \(entry.index) after \(previous)")
            previous = entry.index
        }
        try database.run("BEGIN IMMEDIATE")
        do {
            var results: [MetaCommandResult] = []
            results.reserveCapacity(batch.count)
            for entry in batch { results.append(try applyOne(entry.command)) }
            try setMetaValue("applied_index", Int64(bitPattern: lastIndex))
            try setMetaValue("time_high_water", timeHighWater)
            try setMetaValue("request_count", Int64(requestCount))
            try database.run("COMMIT")
            appliedIndexValue = lastIndex
            return results
        } catch {
            do {
                _ = try database.run("ROLLBACK")
                try loadCounters()
            } catch let rollbackError {
                throw MetaStateMachineStopped(batchError: "\(error)", rollbackError: "\(rollbackError)")
            }
            throw error
        }
    }

    private func applyOne(_ bytes: [UInt8]) throws -> MetaCommandResult {
        guard !bytes.isEmpty else { return .done }
        let command: MetaCommand
        do {
            command = try MetaCommand(decoding: bytes)
        } catch {
            // Deterministic on every replica, so answering beats stopping the group.
            return .failed(.internalFault("undecodable command: \(error)"))
        }
        let envelope = command.envelope
        timeHighWater = max(timeHighWater, envelope.time)
        // Per command, not per batch: replicas may group the same entries into different batches, and what
        // a retry finds must not depend on that.
        try pruneRequests()
        if !envelope.commandID.isEmpty, !faults.contains(.reexecuteRetries),
           let remembered = try rememberedResult(envelope.commandID, kind: command.kind) {
            return remembered
        }
        if let stamp = envelope.bucketAccess, let refusal = try staleAccess(stamp, of: command) {
            // Not remembered: it changed nothing, and the proposer re-proposes under the same command id
            // once it has decided again on the bucket as it is now.
            return .failed(refusal)
        }
        if let refusal = try staleObjectAccess(of: command) {
            // Not remembered either, for the same reason.
            return .failed(refusal)
        }
        try database.run("SAVEPOINT command")
        let result: MetaCommandResult
        do {
            result = try execute(command)
        } catch let refusal as MetaError {
            try database.run("ROLLBACK TO command")
            result = .failed(refusal)
        }
        try database.run("RELEASE command")
        if !envelope.commandID.isEmpty {
            try remember(envelope.commandID, kind: command.kind, time: envelope.time, result: result)
        }
        return result
    }

    /// Runs one command. Throws `MetaError` to refuse it (the savepoint undoes any partial change) and
    /// anything else for a storage fault.
    private func execute(_ command: MetaCommand) throws -> MetaCommandResult {
        switch command {
        case .createUser(let envelope, let user):
            try applyCreateUser(user, envelope: envelope)
        case .deleteUser(_, let name, let heir):
            try applyDeleteUser(name: name, heir: heir)
        case .createBucket(let envelope, let name, let acl, let ownership, let objectLock):
            try applyCreateBucket(name: name, acl: acl, ownership: ownership, envelope: envelope)
            if let objectLock { try applyCreateBucketLock(bucket: name, configuration: objectLock) }
        case .deleteBucket(let envelope, let name, let abortingUploads):
            try applyDeleteBucket(name: name, abortingUploads: abortingUploads, envelope: envelope)
        case .putObject(let envelope, let object, let precondition, let startedTime):
            return .stored(
                versionID: try applyPutObject(
                    object, precondition: precondition, startedTime: startedTime, envelope: envelope))
        case .deleteObjects(let envelope, let bucket, let keys):
            return .deleted(try applyDeleteObjects(bucket: bucket, keys: keys, envelope: envelope))
        case .createMultipartUpload(let envelope, let upload):
            try applyCreateUpload(upload, envelope: envelope)
        case .putPart(let envelope, let bucket, let key, let uploadID, let part, let startedTime):
            try applyPutPart(
                part, bucket: bucket, key: key, uploadID: uploadID, startedTime: startedTime,
                envelope: envelope)
        case .completeMultipartUpload(
            let envelope, let bucket, let key, let uploadID, let parts, let precondition,
            let minimumPartSizeBytes, let versionID):
            return .object(
                try applyCompleteUpload(
                    CompleteRequest(
                        bucket: bucket, key: key, uploadID: uploadID, parts: parts,
                        precondition: precondition, minimumPartSizeBytes: minimumPartSizeBytes,
                        versionID: versionID),
                    envelope: envelope))
        case .abortMultipartUpload(let envelope, let bucket, let key, let uploadID):
            try applyAbortUpload(bucket: bucket, key: key, uploadID: uploadID, envelope: envelope)
        case .forgetGarbage(_, let chunkIDs):
            try applyForgetGarbage(chunkIDs)
        case .setQuota(_, let target, let quota):
            try applySetQuota(quota, for: target)
        case .putBucketACL(_, let bucket, let acl):
            try applyPutBucketACL(bucket: bucket, acl: acl)
        case .putObjectACL(_, let bucket, let key, let acl):
            try applyPutObjectACL(bucket: bucket, key: key, acl: acl)
        case .setOwnershipControls(_, let bucket, let ownership):
            try applySetOwnershipControls(bucket: bucket, ownership: ownership)
        case .setBucketPolicy(_, let bucket, let policy):
            try applySetBucketPolicy(bucket: bucket, policy: policy)
        case .deleteVersions(let envelope, let bucket, let targets, let bypassGovernance):
            return .deletedVersions(try applyDeleteVersions(bucket: bucket, targets: targets, envelope: envelope,
                                                            bypassGovernance: bypassGovernance))
        case .setBucketVersioning(let envelope, let bucket, let state):
            try applySetBucketVersioning(bucket: bucket, state: state, envelope: envelope)
        case .putObjectTagging(_, let bucket, let key, let versionID, let tags, _):
            return .stored(versionID: try applyPutObjectTagging(bucket: bucket, key: key, versionID: versionID, tags: tags))
        case .setBucketTagging(_, let bucket, let tags):
            try applySetBucketColumn(.tags, bucket: bucket, value: tags)
        case .setBucketCORS(_, let bucket, let cors):
            try applySetBucketColumn(.cors, bucket: bucket, value: cors)
        case .setBucketLifecycle(_, let bucket, let lifecycle):
            try applySetBucketColumn(.lifecycle, bucket: bucket, value: lifecycle)
        case .expireByLifecycle(let envelope, let bucket, let expiries):
            return .deletedVersions(try applyLifecycleExpiries(bucket: bucket, expiries: expiries, envelope: envelope))
        case .setBucketDurability(_, let bucket, let durability):
            try applySetBucketDurability(bucket: bucket, durability: durability)
        case .relocateChunk(_, let record, let chunkID, let from, let to):
            try applyRelocateChunk(record: record, chunkID: chunkID, from: from, to: to)
        case .setMemberAddress(_, let member, let address):
            try applySetMemberAddress(member: member, apiAddress: address)
        case .setPublicAccessBlock(_, let bucket, let block):
            try applySetPublicAccessBlock(bucket: bucket, block: block)
        case .registerBlobNode(let envelope, let node):
            try applyRegisterBlobNode(node, time: envelope.time)
        case .setBlobNodeState(let envelope, let node, let state):
            try applySetBlobNodeState(node: node, state: state, time: envelope.time)
        case .setBlobNodeLiveness(let envelope, let node, let alive):
            try applySetBlobNodeLiveness(node: node, alive: alive, time: envelope.time)
        case .setObjectLockConfiguration(_, let bucket, let configuration):
            try applySetObjectLockConfiguration(bucket: bucket, configuration: configuration)
        case .putObjectRetention(let envelope, let bucket, let key, let versionID, let retention, let bypass):
            return .stored(versionID: try applyPutObjectRetention(
                bucket: bucket, key: key, versionID: versionID, retention: retention, bypassGovernance: bypass,
                time: envelope.time))
        case .putObjectLegalHold(_, let bucket, let key, let versionID, let legalHold):
            return .stored(versionID: try applyPutObjectLegalHold(
                bucket: bucket, key: key, versionID: versionID, legalHold: legalHold))
        }
        return .done
    }

    /// Why a write authorized against `stamp` must not take effect, or nil when the bucket's access
    /// settings are still the ones it was decided on. A missing bucket is `.noSuchBucket`, as the write
    /// itself would answer.
    private func staleAccess(_ stamp: BucketAccessStamp, of command: MetaCommand) throws -> MetaError? {
        guard let name = command.accessCheckedBucket else {
            return .internalFault("a kind \(command.kind) command carries a bucket access stamp")
        }
        guard let bucket = try bucketRecord(name) else { return .noSuchBucket }
        return bucket.accessStamp == stamp ? nil : .bucketAccessChanged
    }

    // MARK: Request ids

    private func rememberedResult(_ commandID: CommandID, kind: UInt8) throws -> MetaCommandResult? {
        guard
            let row = try database.firstRow(
                "SELECT kind, result FROM requests WHERE request_id = ?", [.string(commandID)],
                { ($0.int64(0), $0.bytes(1)) })
        else { return nil }
        guard row.0 == Int64(kind) else {
            return .failed(.internalFault("command id \(commandID) was already used for another operation"))
        }
        do {
            return try MetaCommandResult(decoding: row.1)
        } catch {
            throw SQLiteError(code: SQLITE_CORRUPT, message: "stored result of request \(commandID): \(error)")
        }
    }

    private func remember(_ commandID: CommandID, kind: UInt8, time: Int64, result: MetaCommandResult) throws {
        try database.run(
            faults.contains(.reexecuteRetries)
                ? "INSERT OR REPLACE INTO requests(request_id, time, kind, result) VALUES (?, ?, ?, ?)"
                : "INSERT INTO requests(request_id, time, kind, result) VALUES (?, ?, ?, ?)",
            [.string(commandID), .int(time), .int(Int64(kind)), .bytes(result.encode())])
        requestCount += 1
    }

    /// Forgets command ids older than the retention window (in command time), then the oldest beyond the
    /// count limit among those older than the minimum retention. Both use the `requests_by_time` index.
    private func pruneRequests() throws {
        let (cutoff, overflow) = timeHighWater.subtractingReportingOverflow(MetaLimits.commandIDRetentionMilliseconds)
        if !overflow {
            requestCount -= try database.run("DELETE FROM requests WHERE time < ?", [.int(cutoff)])
        }
        let excess = requestCount - commandIDCountMax
        let (youngest, youngestOverflow) = timeHighWater.subtractingReportingOverflow(
            MetaLimits.commandIDRetentionMinMilliseconds)
        if excess > 0 && !youngestOverflow {
            requestCount -= try database.run(
                """
                DELETE FROM requests WHERE request_id IN
                (SELECT request_id FROM requests WHERE time < ? ORDER BY time, request_id LIMIT ?)
                """,
                [.int(youngest), .int(Int64(excess))])
        }
        precondition(requestCount >= 0, "request count \(requestCount) below zero")
    }

    // MARK: Snapshots

    /// Copies the whole database to a new file at `destinationPath` (SQLite backup API) and returns the
    /// applied index it holds. Call between batches only (the state machine's thread guarantees it).
    func snapshot(to destinationPath: String) throws -> UInt64 {
        let destination = try SQLiteConnection(path: destinationPath)
        defer { destination.close() }
        try sqliteBackup(from: database, to: destination)
        // The copy is in rollback-journal mode with synchronous=FULL (the defaults), so its pages are
        // fsynced when the backup's transaction ends.
        return appliedIndexValue
    }

    /// Replaces the whole state with the snapshot file at `sourcePath` and returns its applied index.
    func restore(from sourcePath: String) throws -> UInt64 {
        // Read only: the file belongs to RaftKit's snapshot store, which checksums it.
        let source = try SQLiteConnection(path: sourcePath, readOnly: true)
        defer { source.close() }
        let version = try source.firstRow("SELECT value FROM meta WHERE name = 'schema_version'") { $0.int64(0) }
        guard version == MetaSchema.version else {
            throw SQLiteError(
                code: SQLITE_MISMATCH, message: "snapshot \(sourcePath) has schema \(String(describing: version))")
        }
        try sqliteBackup(from: source, to: database)
        try loadCounters()
        return appliedIndexValue
    }

    /// Every row of every table in a fixed order, blobs in hex: two replicas at the same applied index
    /// must produce equal dumps.
    func dump() throws -> [String] {
        var lines: [String] = []
        for table in MetaSchema.tablesInOrder {
            let columnCount =
                try database.firstRow("SELECT count(*) FROM pragma_table_info('\(table.name)')") {
                    $0.int64(0)
                } ?? 0
            let rows = try database.rows("SELECT * FROM \(table.name) ORDER BY \(table.orderBy)") { row in
                (0..<Int32(columnCount)).map { column -> String in
                    let bytes = row.bytes(column)
                    return bytes.map { String($0, radix: 16) }.joined(separator: ".")
                }.joined(separator: "|")
            }
            lines.append(contentsOf: rows.map { "\(table.name): \($0)" })
        }
        return lines
    }
}
