import Foundation
import Logging

@testable import MetaQuorum

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/silo-meta-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A settable clock for the service (milliseconds).
final class TestClock: @unchecked Sendable {
    // @unchecked Sendable: `now` is guarded by `lock`.
    private let lock = NSLock()
    private var now: Int64
    init(_ start: Int64) { now = start }
    var milliseconds: Int64 {
        get { lock.withLock { now } }
        set { lock.withLock { now = newValue } }
    }
}

let testStartTime: Int64 = 1_700_000_000_000

func makeService(_ directory: TemporaryDirectory, clock: TestClock) async throws -> EmbeddedMetadataService {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return try await EmbeddedMetadataService(
        directory: directory.path, logger: logger,
        clock: { clock.milliseconds })
}

/// Fresh request ids.
final class CommandIDs: @unchecked Sendable {
    // @unchecked Sendable: `next` is guarded by `lock`.
    private let lock = NSLock()
    private var next = 0
    func make() -> CommandID {
        lock.withLock {
            next += 1
            return "req-\(next)"
        }
    }
}

func md5Hex(_ seed: Int) -> String {
    // Any 32 hex digits will do for a part ETag; derive distinct ones from the seed.
    let text = String(UInt64(seed) &* 0x9E37_79B9_7F4A_7C15, radix: 16)
    return String(repeating: "0", count: 32 - text.count) + text
}

func chunk(_ id: ChunkID, _ sizeBytes: Int64) -> ChunkRef {
    ChunkRef(id: id, sizeBytes: sizeBytes, nodes: [1])
}

func objectRecord(
    bucket: String, key: String, etag: String = "0123456789abcdef0123456789abcdef",
    chunks: [ChunkRef] = [], time: Int64 = testStartTime
) -> ObjectRecord {
    ObjectRecord(
        // `null`: what an unversioned bucket stores, whatever the proposer chose.
        bucket: bucket, key: key, versionID: nullVersionID,
        sizeBytes: chunks.reduce(0) { $0 + $1.sizeBytes }, etag: etag, lastModifiedTime: time,
        headers: [HeaderField(name: "content-type", value: "text/plain")],
        userMetadata: [HeaderField(name: "color", value: "blue")], checksum: nil, chunks: chunks,
        partSizes: [])
}

func uploadRecord(bucket: String, key: String, uploadID: String, time: Int64 = testStartTime) -> UploadRecord {
    UploadRecord(
        bucket: bucket, key: key, uploadID: uploadID, initiator: "alice", initiatedTime: time,
        headers: [HeaderField(name: "content-type", value: "application/zip")],
        userMetadata: [], checksumAlgorithm: nil)
}

func partRecord(_ number: Int, sizeBytes: Int64, chunkID: ChunkID, etag: String? = nil) -> PartRecord {
    PartRecord(
        partNumber: number, sizeBytes: sizeBytes, etag: etag ?? md5Hex(number), lastModifiedTime: testStartTime,
        checksum: nil, chunks: [chunk(chunkID, sizeBytes)])
}

/// Drives a `MetaStateMachine` directly, one command per batch unless told otherwise.
final class MachineDriver {
    let machine: MetaStateMachine
    var nextIndex: UInt64

    init(path: String) throws {
        machine = try MetaStateMachine(path: path)
        nextIndex = machine.appliedIndex() + 1
    }

    @discardableResult
    func apply(_ command: MetaCommand) throws -> MetaCommandResult {
        try applyBatch([command])[0]
    }

    func applyBatch(_ commands: [MetaCommand]) throws -> [MetaCommandResult] {
        let batch = commands.enumerated().map { (index: nextIndex + UInt64($0.offset), command: $0.element.encode()) }
        nextIndex += UInt64(commands.count)
        return try machine.apply(batch: batch)
    }
}

/// A suite that drives one `MetaStateMachine` on a temporary SQLite file holding bucket "b": the shared
/// preamble of the versioning, tagging and object lock suites. Conformers hold `directory`, `driver` and
/// `ids`, made by `makeBucketMachine`; each test calls `close()` when done.
protocol MachineSuite {
    var directory: TemporaryDirectory { get }
    var driver: MachineDriver { get }
    var ids: CommandIDs { get }
}

extension MachineSuite {
    /// A temporary directory and a machine in it whose first command created bucket "b" (with `objectLock`).
    static func makeBucketMachine(objectLock: ObjectLockConfiguration? = nil) throws
        -> (directory: TemporaryDirectory, driver: MachineDriver)
    {
        let directory = try TemporaryDirectory()
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.createBucket(envelope("create"), name: "b", acl: nil, ownership: nil, objectLock: objectLock))
        return (directory, driver)
    }

    func close() {
        driver.machine.close()
        directory.remove()
    }

    /// A fresh envelope `time` milliseconds after the test's start.
    func next(_ time: Int64 = 0) -> CommandEnvelope {
        envelope(ids.make(), time: testStartTime + time)
    }
}

/// Removes what schema 5 added (versioning), so that a test can build an older database from a current one.
/// Only for databases without versioned buckets; the caller sets `schema_version`.
/// Undoes schema 6 (access control) of a database whose object records have no owner or ACL: the access
/// columns go, and object and upload records lose their absent format-3 fields.
/// Schema 7 → 6: the tagging and CORS columns go.
func downgradeToSchemaSix(_ database: SQLiteConnection) throws {
    for column in ["tags", "cors"] {
        try database.execute("ALTER TABLE buckets DROP COLUMN \(column)")
    }
}

func downgradeToSchemaFive(_ database: SQLiteConnection) throws {
    try downgradeToSchemaSeven(database)
    try downgradeToSchemaSix(database)
    for column in ["acl", "ownership", "policy"] {
        try database.execute("ALTER TABLE buckets DROP COLUMN \(column)")
    }
    try database.execute("ALTER TABLE objects DROP COLUMN owner")
    try database.execute("UPDATE objects SET record = substr(record, 1, length(record) - 2) WHERE true")
    try database.execute("UPDATE versions SET record = substr(record, 1, length(record) - 2) WHERE true")
    try database.execute("UPDATE uploads SET record = substr(record, 1, length(record) - 1) WHERE true")
}

func downgradeToSchemaFour(_ database: SQLiteConnection) throws {
    try downgradeToSchemaSeven(database)
    try database.execute("DROP TABLE versions")
    try database.execute("ALTER TABLE buckets DROP COLUMN versioning")
    try database.execute("ALTER TABLE objects DROP COLUMN completed_upload")
    try database.execute("DELETE FROM meta WHERE name = 'version_seq'")
}

func envelope(_ commandID: String, _ requester: String = "alice", time: Int64 = testStartTime) -> CommandEnvelope {
    CommandEnvelope(commandID: commandID, requester: requester, time: time)
}

/// Schema 8 → 7 (bucket durability): the column goes, if present. (7 is an empty step on this branch.)
/// Schema 12 → 8: the blob cluster map (12), the object lock column (11), the public access block column (10) and the members'
/// addresses table (9) go, if present.
func downgradeToSchemaEight(_ database: SQLiteConnection) throws {
    try downgradeToSchemaTen(database)
    let hasBlock = try database.firstRow(
        "SELECT 1 FROM pragma_table_info('buckets') WHERE name = 'public_access_block'", [], { _ in true }) ?? false
    if hasBlock { try database.execute("ALTER TABLE buckets DROP COLUMN public_access_block") }
    try database.execute("DROP TABLE IF EXISTS meta_members")
}

/// Schema 13 → 12: the lifecycle column goes, if present.
func downgradeFromLifecycle(_ database: SQLiteConnection) throws {
    let present = try database.firstRow(
        "SELECT 1 FROM pragma_table_info('buckets') WHERE name = 'lifecycle'", [], { _ in true }) ?? false
    if present { try database.execute("ALTER TABLE buckets DROP COLUMN lifecycle") }
}

/// Schema 13 → 11: the lifecycle column (13) and the blob cluster map (12) go.
func downgradeFromBlobMap(_ database: SQLiteConnection) throws {
    try downgradeFromLifecycle(database)
    try database.execute("DROP TABLE IF EXISTS blob_nodes")
    try database.execute("DELETE FROM meta WHERE name = 'blob_epoch'")
}

/// Schema 12 → 10: the blob cluster map (12) and the object lock column (11) go, if present.
func downgradeToSchemaTen(_ database: SQLiteConnection) throws {
    try downgradeFromBlobMap(database)
    let hasLock = try database.firstRow(
        "SELECT 1 FROM pragma_table_info('buckets') WHERE name = 'object_lock'", [], { _ in true }) ?? false
    if hasLock { try database.execute("ALTER TABLE buckets DROP COLUMN object_lock") }
}

func downgradeToSchemaSeven(_ database: SQLiteConnection) throws {
    try downgradeToSchemaEight(database)
    let present = try database.firstRow(
        "SELECT 1 FROM pragma_table_info('buckets') WHERE name = 'durability'", [], { _ in true }) ?? false
    if present { try database.execute("ALTER TABLE buckets DROP COLUMN durability") }
}
