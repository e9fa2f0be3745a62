import WallClock
import Foundation
public import Logging
public import MetaContract

/// The `MetadataService` every process uses: it turns each mutation into a `MetaCommand` and each read into
/// a `MetaQuery`, and hands them to a `MetaLog`: a one-voter RaftKit group in this process
/// (`init(directory:logger:)`, the all-in-one server), a replica of a group (`init(replica:)`, `silo meta`'s
/// own admin calls) or a remote group (`init(remote:)`, `silo gateway`).
///
/// Lifecycle: create once at start-up, share the instance (it is `Sendable`) with every request handler,
/// `await close()` once at shutdown. A call after `close()` fails with `.unavailable`.
///
/// Mutations are stamped with this process's wall-clock time where the contract carries none; over a replica
/// in this process, with max(that clock, the last committed time), so times never go back when the clock
/// steps back (a remote group's leader does the same on its side). Concurrent
/// proposals share Raft appends and SQLite transactions (group commit at both levels).
public final class EmbeddedMetadataService: MetadataService {
    private let log: any MetaLog
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let directory: String?
    /// Commands that grow the metadata are refused while less than this is free on its filesystem (local
    /// replicas only: a remote group checks its own disks).
    private let freeSpaceFloorBytes: UInt64

    /// Opens (creating if needed) the metadata in `directory` (file `meta.sqlite` there), with the system
    /// wall clock for command times.
    public convenience init(directory: String, logger: Logger,
                            freeSpaceFloorBytes: UInt64 = MetaLimits.freeSpaceFloorBytesDefault) async throws(MetaError) {
        try await self.init(
            directory: directory, logger: logger, freeSpaceFloorBytes: freeSpaceFloorBytes,
            clock: { WallClock.nowMilliseconds() })
    }

    /// As `init(directory:logger:)`, with `clock` (milliseconds since the Unix epoch) stamping the commands
    /// whose contract call carries no time. Tests use it to move time.
    public init(directory: String, logger: Logger,
                freeSpaceFloorBytes: UInt64 = MetaLimits.freeSpaceFloorBytesDefault,
                clock: @escaping @Sendable () -> Int64) async throws(MetaError) {
        let replica: RaftMetaLog
        do {
            replica = try await RaftMetaLog.startSingleVoter(directory: directory, logger: logger, clock: clock)
        } catch let error as MetaError {
            throw error
        } catch {
            throw .internalFault("opening the metadata in \(directory): \(error)")
        }
        self.log = replica
        self.clock = { max(clock(), replica.committedTime) }
        self.logger = logger
        self.directory = directory
        self.freeSpaceFloorBytes = freeSpaceFloorBytes
    }

    /// Over a replica this process already runs (`silo meta`).
    public init(replica: RaftMetaLog, logger: Logger, freeSpaceFloorBytes: UInt64 = MetaLimits.freeSpaceFloorBytesDefault) {
        self.log = replica
        self.clock = { max(EmbeddedMetadataService.wallClock(), replica.committedTime) }
        self.logger = logger
        self.directory = replica.directory
        self.freeSpaceFloorBytes = freeSpaceFloorBytes
    }

    /// Over a remote metadata group (`silo gateway`). The group's leader re-stamps every command's time with
    /// its own clock; `clock` (tests: a gateway whose clock is off) only fills the proposal.
    public init(remote: RemoteMetaLog, logger: Logger, clock: (@Sendable () -> Int64)? = nil) {
        self.log = remote
        self.clock = clock ?? EmbeddedMetadataService.wallClock
        self.logger = logger
        self.directory = nil
        self.freeSpaceFloorBytes = 0
    }

    private static let wallClock: @Sendable () -> Int64 = { WallClock.nowMilliseconds() }

    /// Applies everything already queued, closes the database and stops the service's thread.
    public func close() async {
        await log.close()
    }

    // MARK: Users

    public func createUser(_ user: UserRecord, commandID: CommandID) async throws(MetaError) {
        try await expectDone(.createUser(try envelope(commandID, requester: "", time: clock()), user: user))
    }

    public func deleteUser(name: String, heir: String?, commandID: CommandID) async throws(MetaError) {
        try await expectDone(.deleteUser(try envelope(commandID, requester: "", time: clock()), name: name, heir: heir))
    }

    public func listUsers() async throws(MetaError) -> [UserRecord] {
        try await ask(.listUsers) { if case .users(let v) = $0 { v } else { nil } }
    }

    public func user(accessKeyID: String) async throws(MetaError) -> UserRecord? {
        try await ask(.user(accessKeyID: accessKeyID)) { if case .user(let v) = $0 { v } else { nil } }
    }

    // MARK: Buckets

    public func createBucket(name: String, owner: String, time: Int64, acl: AccessControlList?,
                             ownership: ObjectOwnership?, commandID: CommandID) async throws(MetaError) {
        try await expectDone(.createBucket(try envelope(commandID, requester: owner, time: time), name: name,
                                           acl: acl, ownership: ownership))
    }

    public func createBucket(name: String, owner: String, time: Int64, acl: AccessControlList?,
                             ownership: ObjectOwnership?, objectLock: ObjectLockConfiguration,
                             commandID: CommandID) async throws(MetaError) {
        try await expectDone(.createBucket(try envelope(commandID, requester: owner, time: time), name: name,
                                           acl: acl, ownership: ownership, objectLock: objectLock))
    }

    public func deleteBucket(name: String, requester: String, commandID: CommandID) async throws(MetaError) {
        try await expectDone(
            .deleteBucket(
                try envelope(commandID, requester: requester, time: clock()), name: name, abortingUploads: true))
    }

    public func listBuckets(owner: String) async throws(MetaError) -> [BucketRecord] {
        try await ask(.listBuckets(owner: owner)) { if case .buckets(let v) = $0 { v } else { nil } }
    }

    public func bucket(name: String) async throws(MetaError) -> BucketRecord? {
        try await ask(.bucket(name: name)) { if case .bucket(let v) = $0 { v } else { nil } }
    }

    // MARK: Access control

    public func objectAccess(bucket: String, key: String) async throws(MetaError)
        -> (bucket: BucketRecord, object: ObjectRecord?)
    {
        try await ask(.objectAccess(bucket: bucket, key: key)) {
            if case .objectAccess(let bucket, let object) = $0 { (bucket, object) } else { nil }
        }
    }

    public func putBucketACL(bucket: String, acl: AccessControlList, requester: String, access: BucketAccessStamp?,
                             commandID: CommandID) async throws(MetaError)
    {
        try await expectDone(.putBucketACL(try envelope(commandID, requester: requester, time: clock(), access: access),
                                           bucket: bucket, acl: acl))
    }

    public func putObjectACL(bucket: String, key: String, acl: AccessControlList, requester: String,
                             access: BucketAccessStamp?, commandID: CommandID) async throws(MetaError) {
        try await expectDone(.putObjectACL(try envelope(commandID, requester: requester, time: clock(), access: access),
                                           bucket: bucket, key: key, acl: acl))
    }

    public func setOwnershipControls(bucket: String, ownership: ObjectOwnership?, requester: String,
                                     access: BucketAccessStamp?, commandID: CommandID) async throws(MetaError) {
        try await expectDone(.setOwnershipControls(try envelope(commandID, requester: requester, time: clock(), access: access),
                                                   bucket: bucket, ownership: ownership))
    }

    public func setBucketPolicy(bucket: String, policy: String?, requester: String, access: BucketAccessStamp?,
                                commandID: CommandID) async throws(MetaError)
    {
        try await expectDone(.setBucketPolicy(try envelope(commandID, requester: requester, time: clock(), access: access),
                                              bucket: bucket, policy: policy))
    }

    // MARK: Objects

    @discardableResult
    public func putObject(
        _ object: ObjectRecord, requester: String, access: BucketAccessStamp?, precondition: WritePrecondition,
        startedTime: Int64, commandID: CommandID
    ) async throws(MetaError) -> String? {
        let envelope = try envelope(commandID, requester: requester, time: clock(), access: access)
        switch try await submit(.putObject(envelope, object: object, precondition: precondition, startedTime: startedTime)) {
        case .stored(let versionID): return versionID
        // A retry answered with an outcome remembered before command format 3.
        case .done: return nil
        default: throw .internalFault("putObject returned an unexpected result")
        }
    }

    public func objectVersion(bucket: String, key: String, versionID: String?, requester: String)
        async throws(MetaError) -> ObjectVersion?
    {
        try await ask(.objectVersion(bucket: bucket, key: key, versionID: versionID, requester: requester)) {
            if case .objectVersion(let v) = $0 { v } else { nil }
        }
    }

    public func deleteObjectVersions(
        bucket: String, targets: [DeleteTarget], requester: String, access: BucketAccessStamp?, time: Int64,
        bypassGovernance: Bool, commandID: CommandID
    ) async throws(MetaError) -> [DeleteOutcome] {
        let command = MetaCommand.deleteVersions(
            try envelope(commandID, requester: requester, time: time, access: access), bucket: bucket, targets: targets,
            bypassGovernance: bypassGovernance)
        guard case .deletedVersions(let outcomes) = try await submit(command), outcomes.count == targets.count else {
            throw .internalFault("deleteVersions returned an unexpected result")
        }
        return outcomes
    }

    public func listObjectVersions(_ query: ListVersionsQuery, requester: String) async throws(MetaError)
        -> ListVersionsPage
    {
        try await ask(.listVersions(query, requester: requester)) { if case .versions(let v) = $0 { v } else { nil } }
    }

    public func setBucketVersioning(bucket: String, state: BucketVersioning, requester: String,
                                    commandID: CommandID) async throws(MetaError) {
        try await expectDone(
            .setBucketVersioning(try envelope(commandID, requester: requester, time: clock()), bucket: bucket,
                                 state: state))
    }

    public func bucketVersioning(bucket: String, requester: String) async throws(MetaError) -> BucketVersioning {
        try await ask(.bucketVersioning(bucket: bucket, requester: requester)) {
            if case .versioning(let v) = $0 { v } else { nil }
        }
    }

    public func setBucketDurability(bucket: String, durability: BucketDurability?, commandID: CommandID)
        async throws(MetaError)
    {
        try await expectDone(
            .setBucketDurability(try envelope(commandID, requester: "", time: clock()), bucket: bucket,
                                 durability: durability))
    }

    public func locatedChunkPlacements(after position: ChunkScanPosition?, limit: Int) async throws(MetaError)
        -> ChunkPlacementPage
    {
        try await ask(.locatedChunkPlacements(after: position, limit: limit)) {
            if case .locatedPlacements(let v) = $0 { v } else { nil }
        }
    }

    public func relocateChunk(record: ChunkScanPosition, chunkID: ChunkID, from: UInt32, to: UInt32,
                              commandID: CommandID) async throws(MetaError)
    {
        try await expectDone(
            .relocateChunk(try envelope(commandID, requester: "", time: clock()), record: record, chunkID: chunkID,
                           from: from, to: to))
    }

    public func bucketDurability(bucket: String) async throws(MetaError) -> BucketDurability? {
        try await ask(.bucketDurability(bucket: bucket)) { if case .durability(let v) = $0 { .some(v) } else { nil } }
    }

    public func object(bucket: String, key: String, requester: String) async throws(MetaError) -> ObjectRecord? {
        try await ask(.object(bucket: bucket, key: key, requester: requester)) { if case .object(let v) = $0 { v } else { nil } }
    }

    @discardableResult
    public func deleteObjects(
        bucket: String, keys: [String], requester: String, time: Int64,
        commandID: CommandID
    ) async throws(MetaError) -> [Bool] {
        // Marker ids derived from the command id: a retry names the same ones.
        let targets = keys.enumerated().map { position, key in
            DeleteTarget(key: key, versionID: nil,
                         markerVersionID: MetaCommand.derivedVersionID(commandID: commandID, position: position))
        }
        return try await deleteObjectVersions(
            bucket: bucket, targets: targets, requester: requester, access: nil, time: time, commandID: commandID
        ).map(\.removedCurrent)
    }

    public func listObjects(_ query: ListObjectsQuery, requester: String) async throws(MetaError) -> ListObjectsPage {
        try await ask(.listObjects(query, requester: requester)) { if case .objects(let v) = $0 { v } else { nil } }
    }

    // MARK: Multipart uploads

    public func createMultipartUpload(_ upload: UploadRecord, requester: String, access: BucketAccessStamp?,
                                      commandID: CommandID) async throws(MetaError)
    {
        try await expectDone(
            .createMultipartUpload(
                try envelope(commandID, requester: requester, time: clock(), access: access),
                upload: upload))
    }

    public func upload(bucket: String, key: String, uploadID: String, requester: String) async throws(MetaError)
        -> UploadRecord?
    {
        try await ask(.upload(bucket: bucket, key: key, uploadID: uploadID, requester: requester)) {
            if case .upload(let v) = $0 { v } else { nil }
        }
    }

    public func putPart(
        _ part: PartRecord, bucket: String, key: String, uploadID: String, requester: String,
        access: BucketAccessStamp?, startedTime: Int64, commandID: CommandID
    ) async throws(MetaError) {
        let envelope = try envelope(commandID, requester: requester, time: clock(), access: access)
        try await expectDone(
            .putPart(
                envelope, bucket: bucket, key: key, uploadID: uploadID, part: part,
                startedTime: startedTime))
    }

    public func completeMultipartUpload(
        bucket: String, key: String, uploadID: String, parts: [CompletedPart],
        requester: String, access: BucketAccessStamp?, precondition: WritePrecondition, time: Int64,
        minimumPartSizeBytes: Int64, commandID: CommandID
    ) async throws(MetaError)
        -> ObjectRecord
    {
        // The proposer chooses the version id, so that every replica applies the same one. It is derived from
        // the upload id, so that a retried completion names the version the first one made.
        let command = MetaCommand.completeMultipartUpload(
            try envelope(commandID, requester: requester, time: time, access: access), bucket: bucket, key: key,
            uploadID: uploadID,
            parts: parts, precondition: precondition, minimumPartSizeBytes: minimumPartSizeBytes,
            versionID: MetaCommand.completedVersionID(uploadID: uploadID))
        guard case .object(let object) = try await submit(command) else {
            throw .internalFault("completeMultipartUpload returned an unexpected result")
        }
        return object
    }

    public func abortMultipartUpload(
        bucket: String, key: String, uploadID: String, requester: String, access: BucketAccessStamp?,
        commandID: CommandID
    ) async throws(MetaError) {
        try await expectDone(
            .abortMultipartUpload(
                try envelope(commandID, requester: requester, time: clock(), access: access),
                bucket: bucket, key: key, uploadID: uploadID))
    }

    public func listParts(
        bucket: String, key: String, uploadID: String, requester: String,
        partNumberMarker: Int, maxParts: Int
    ) async throws(MetaError) -> ListPartsPage {
        try await ask(
            .listParts(
                bucket: bucket, key: key, uploadID: uploadID, requester: requester,
                partNumberMarker: partNumberMarker, maxParts: maxParts)
        ) { if case .parts(let v) = $0 { v } else { nil } }
    }

    public func listMultipartUploads(_ query: ListUploadsQuery, requester: String) async throws(MetaError)
        -> ListUploadsPage
    {
        try await ask(.listUploads(query, requester: requester)) { if case .uploads(let v) = $0 { v } else { nil } }
    }

    // MARK: Chunk garbage

    public func garbageChunks(limit: Int) async throws(MetaError) -> [GarbageChunk] {
        try await ask(.garbageChunks(limit: limit)) { if case .garbage(let v) = $0 { v } else { nil } }
    }

    public func forgetGarbage(_ chunkIDs: [ChunkID], commandID: CommandID) async throws(MetaError) {
        try await expectDone(.forgetGarbage(try envelope(commandID, requester: "", time: clock()), chunkIDs: chunkIDs))
    }

    public func referencedChunks(_ chunkIDs: [ChunkID]) async throws(MetaError) -> Set<ChunkID> {
        Set(try await ask(.referencedChunks(chunkIDs)) { if case .chunkIDs(let v) = $0 { v } else { nil } })
    }

    public func chunkPlacements(after position: ChunkScanPosition?, limit: Int) async throws(MetaError)
        -> ChunkPlacementPage
    {
        try await ask(.chunkPlacements(after: position, limit: limit)) { if case .placements(let v) = $0 { v } else { nil } }
    }

    public func checkHealth() async throws(MetaError) {
        _ = try await appliedIndex()
    }

    // MARK: Beyond the contract

    /// The log index of the last applied command (for status pages and tests).
    public func appliedIndex() async throws(MetaError) -> UInt64 {
        try await ask(.appliedIndex) { if case .index(let v) = $0 { v } else { nil } }
    }

    // MARK: Quotas

    public func setQuota(_ quota: Quota, for target: QuotaTarget, commandID: CommandID) async throws(MetaError) {
        try await expectDone(.setQuota(try envelope(commandID, requester: "", time: clock()), target: target, quota: quota))
    }

    public func usage(of target: QuotaTarget) async throws(MetaError) -> UsageReport {
        try await ask(.usage(target)) { if case .usage(let v) = $0 { v } else { nil } }
    }

    // MARK: Tagging and CORS

    public func putObjectTagging(bucket: String, key: String, versionID: String?, tags: String?,
                                 bucketAccess: BucketAccessStamp?, objectAccess: ObjectAccessStamp?, requester: String,
                                 commandID: CommandID) async throws(MetaError) -> String {
        let command = MetaCommand.putObjectTagging(
            try envelope(commandID, requester: requester, time: clock(), access: bucketAccess), bucket: bucket,
            key: key, versionID: versionID, tags: tags, expected: objectAccess)
        guard case .stored(let tagged?) = try await submit(command) else {
            throw .internalFault("putObjectTagging returned an unexpected result")
        }
        return tagged
    }

    public func setBucketTagging(bucket: String, tags: String?, requester: String, commandID: CommandID)
        async throws(MetaError)
    {
        try await expectDone(.setBucketTagging(try envelope(commandID, requester: requester, time: clock()),
                                               bucket: bucket, tags: tags))
    }

    public func bucketTagging(bucket: String) async throws(MetaError) -> String? {
        try await ask(.bucketTagging(bucket: bucket)) { if case .text(let v) = $0 { .some(v) } else { nil } }
    }

    public func setPublicAccessBlock(bucket: String, block: PublicAccessBlock?, requester: String,
                                     access: BucketAccessStamp?, commandID: CommandID) async throws(MetaError) {
        try await expectDone(.setPublicAccessBlock(try envelope(commandID, requester: requester, time: clock(), access: access),
                                                   bucket: bucket, block: block))
    }

    public func setBucketCORS(bucket: String, cors: String?, requester: String, commandID: CommandID)
        async throws(MetaError)
    {
        try await expectDone(.setBucketCORS(try envelope(commandID, requester: requester, time: clock()),
                                            bucket: bucket, cors: cors))
    }

    // MARK: Lifecycle

    public func setBucketLifecycle(bucket: String, lifecycle: String?, requester: String, commandID: CommandID)
        async throws(MetaError)
    {
        try await expectDone(.setBucketLifecycle(try envelope(commandID, requester: requester, time: clock()),
                                                 bucket: bucket, lifecycle: lifecycle))
    }

    public func bucketLifecycle(bucket: String) async throws(MetaError) -> String? {
        try await ask(.bucketLifecycle(bucket: bucket)) { if case .text(let v) = $0 { .some(v) } else { nil } }
    }

    public func expireByLifecycle(bucket: String, expiries: [LifecycleExpiry], commandID: CommandID)
        async throws(MetaError) -> [DeleteOutcome]
    {
        let command = MetaCommand.expireByLifecycle(try envelope(commandID, requester: "", time: clock()),
                                                    bucket: bucket, expiries: expiries)
        guard case .deletedVersions(let outcomes) = try await submit(command), outcomes.count == expiries.count else {
            throw .internalFault("expireByLifecycle returned an unexpected result")
        }
        return outcomes
    }

    // MARK: Object lock

    public func setObjectLockConfiguration(bucket: String, configuration: ObjectLockConfiguration, requester: String,
                                           commandID: CommandID) async throws(MetaError) {
        try await expectDone(.setObjectLockConfiguration(
            try envelope(commandID, requester: requester, time: clock()), bucket: bucket, configuration: configuration))
    }

    public func objectLockConfiguration(bucket: String) async throws(MetaError) -> ObjectLockConfiguration? {
        try await ask(.objectLockConfiguration(bucket: bucket)) {
            if case .objectLock(let v) = $0 { .some(v) } else { nil }
        }
    }

    public func putObjectRetention(bucket: String, key: String, versionID: String?, retention: ObjectRetention?,
                                   bypassGovernance: Bool, access: BucketAccessStamp?, requester: String,
                                   commandID: CommandID) async throws(MetaError) -> String
    {
        let command = MetaCommand.putObjectRetention(
            try envelope(commandID, requester: requester, time: clock(), access: access), bucket: bucket, key: key,
            versionID: versionID, retention: retention, bypassGovernance: bypassGovernance)
        guard case .stored(let changed?) = try await submit(command) else {
            throw .internalFault("putObjectRetention returned an unexpected result")
        }
        return changed
    }

    public func putObjectLegalHold(bucket: String, key: String, versionID: String?, legalHold: Bool,
                                   access: BucketAccessStamp?, requester: String, commandID: CommandID)
        async throws(MetaError) -> String
    {
        let command = MetaCommand.putObjectLegalHold(
            try envelope(commandID, requester: requester, time: clock(), access: access), bucket: bucket, key: key,
            versionID: versionID, legalHold: legalHold)
        guard case .stored(let changed?) = try await submit(command) else {
            throw .internalFault("putObjectLegalHold returned an unexpected result")
        }
        return changed
    }

    public func bucketCORS(bucket: String) async throws(MetaError) -> String? {
        try await ask(.bucketCORS(bucket: bucket)) { if case .text(let v) = $0 { .some(v) } else { nil } }
    }

    // MARK: Proposing

    private func envelope(_ commandID: CommandID, requester: String, time: Int64,
                          access: BucketAccessStamp? = nil) throws(MetaError) -> CommandEnvelope {
        guard !commandID.isEmpty else { throw .invalidArgument("empty command id") }
        return CommandEnvelope(commandID: commandID, requester: requester, time: time, bucketAccess: access)
    }

    private func submit(_ command: MetaCommand) async throws(MetaError) -> MetaCommandResult {
        if command.growsMetadata && freeSpaceFloorBytes > 0, let directory {
            var info = statvfs()
            if statvfs(directory, &info) == 0 {
                let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
                if free < freeSpaceFloorBytes {
                    throw .insufficientStorage("\(free) bytes free on the metadata disk, \(freeSpaceFloorBytes) reserved")
                }
            }
        }
        let bytes = command.encode()
        guard bytes.count <= MetaLimits.commandBytesMax else {
            throw .internalFault("metadata command of \(bytes.count) bytes exceeds \(MetaLimits.commandBytesMax)")
        }
        let result = try await log.propose(bytes)
        if case .failed(let error) = result { throw error }
        return result
    }

    private func ask<T>(_ query: MetaQuery, _ answer: (MetaQueryResult) -> T?) async throws(MetaError) -> T {
        let result = try await log.query(query)
        if case .failed(let refusal) = result { throw refusal }
        guard let value = answer(result) else {
            throw .internalFault("metadata query \(query) got an answer of another kind")
        }
        return value
    }

    private func expectDone(_ command: MetaCommand) async throws(MetaError) {
        guard case .done = try await submit(command) else {
            throw .internalFault("metadata command \(command.kind) returned an unexpected result")
        }
    }

}

/// The writes without an access stamp, for the tests of this module (internal: a Gateway must say which
/// bucket record it authorized a write against, or that it authorized none).
extension EmbeddedMetadataService {
    @discardableResult
    func putObject(_ object: ObjectRecord, requester: String, precondition: WritePrecondition, startedTime: Int64,
                   commandID: CommandID) async throws(MetaError) -> String? {
        try await putObject(object, requester: requester, access: nil, precondition: precondition,
                            startedTime: startedTime, commandID: commandID)
    }

    func deleteObjectVersions(bucket: String, targets: [DeleteTarget], requester: String, time: Int64,
                              commandID: CommandID) async throws(MetaError) -> [DeleteOutcome] {
        try await deleteObjectVersions(bucket: bucket, targets: targets, requester: requester, access: nil, time: time,
                                       commandID: commandID)
    }

    func createMultipartUpload(_ upload: UploadRecord, requester: String, commandID: CommandID) async throws(MetaError) {
        try await createMultipartUpload(upload, requester: requester, access: nil, commandID: commandID)
    }

    func putPart(_ part: PartRecord, bucket: String, key: String, uploadID: String, requester: String,
                 startedTime: Int64, commandID: CommandID) async throws(MetaError) {
        try await putPart(part, bucket: bucket, key: key, uploadID: uploadID, requester: requester, access: nil,
                          startedTime: startedTime, commandID: commandID)
    }

    func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [CompletedPart],
                                 requester: String, precondition: WritePrecondition, time: Int64,
                                 minimumPartSizeBytes: Int64, commandID: CommandID) async throws(MetaError)
        -> ObjectRecord
    {
        try await completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, parts: parts,
                                          requester: requester, access: nil, precondition: precondition, time: time,
                                          minimumPartSizeBytes: minimumPartSizeBytes, commandID: commandID)
    }

    func abortMultipartUpload(bucket: String, key: String, uploadID: String, requester: String,
                              commandID: CommandID) async throws(MetaError) {
        try await abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, requester: requester, access: nil,
                                       commandID: commandID)
    }
}
