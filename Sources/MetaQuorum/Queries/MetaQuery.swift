import MetaContract

/// One read of `MetadataService`, as a value: what a gateway sends a metadata node, and what the node runs on
/// its state machine's thread once the read is linearizable (after ReadIndex and `waitApplied`).
///
/// Promises: `run(on:)` reads and never writes; `encode()`/`init(decoding:)` round-trip every case and refuse
/// malformed input with `MetaCodecError`. Callers: `MetadataClient` builds queries, a `MetaLog` answers them.
enum MetaQuery: Sendable, Equatable {
    case listUsers
    case user(accessKeyID: String)
    case listBuckets(owner: String)
    case bucket(name: String)
    case object(bucket: String, key: String, requester: String)
    case listObjects(ListObjectsQuery, requester: String)
    case upload(bucket: String, key: String, uploadID: String, requester: String)
    case listParts(bucket: String, key: String, uploadID: String, requester: String, partNumberMarker: Int, maxParts: Int)
    case listUploads(ListUploadsQuery, requester: String)
    case garbageChunks(limit: Int)
    case referencedChunks([ChunkID])
    case usage(QuotaTarget)
    /// The state machine's applied index (status pages and tests).
    case appliedIndex
    /// A bucket and the current version of one of its keys, read together: what an object operation's
    /// access decision needs (the bucket's ACL, ownership controls and policy, the object's owner and ACL).
    case objectAccess(bucket: String, key: String)
    /// The latest version of a key (`versionID` nil) or the one named (tag 30).
    case objectVersion(bucket: String, key: String, versionID: String?, requester: String)
    /// A page of ListObjectVersions (tag 31).
    case listVersions(ListVersionsQuery, requester: String)
    /// A bucket's versioning state (tag 32).
    case bucketVersioning(bucket: String, requester: String)
    case chunkPlacements(after: ChunkScanPosition?, limit: Int)
    /// A bucket's tag set in stored form, nil for none (tag 50).
    case bucketTagging(bucket: String)
    /// A bucket's CORS configuration (canonical XML), nil for none (tag 51).
    case bucketCORS(bucket: String)
    /// A bucket's durability, nil for the cluster's default (tag 60).
    case bucketDurability(bucket: String)
    /// `chunkPlacements` with the record of each chunk (tag 61), for a repairer that moves copies.
    case locatedChunkPlacements(after: ChunkScanPosition?, limit: Int)
    /// The whole blob cluster map with its epoch (tag 70).
    case blobMap
    /// A bucket's object lock configuration, nil when object lock is not enabled (tag 62).
    case objectLockConfiguration(bucket: String)
    /// A bucket's lifecycle configuration (canonical XML), nil for none (tag 63).
    case bucketLifecycle(bucket: String)

    static let formatVersion: UInt8 = 1

    /// Runs the read on the state machine (its own thread). A refusal (`noSuchBucket`, `accessDenied`…) is
    /// returned as `.failed`, so it travels like any answer; a storage fault throws.
    func run(on machine: MetaStateMachine) throws -> MetaQueryResult {
        do {
            switch self {
            case .listUsers: return .users(try machine.listUsers())
            case .user(let accessKeyID): return .user(try machine.user(accessKeyID: accessKeyID))
            case .listBuckets(let owner): return .buckets(try machine.listBuckets(owner: owner))
            case .bucket(let name): return .bucket(try machine.bucketRecord(name))
            case .object(let bucket, let key, let requester):
                return .object(try machine.object(bucket: bucket, key: key, requester: requester))
            case .listObjects(let query, let requester):
                return .objects(try machine.listObjects(query, requester: requester))
            case .upload(let bucket, let key, let uploadID, let requester):
                return .upload(try machine.upload(bucket: bucket, key: key, uploadID: uploadID, requester: requester))
            case .listParts(let bucket, let key, let uploadID, let requester, let marker, let maxParts):
                return .parts(
                    try machine.listParts(
                        bucket: bucket, key: key, uploadID: uploadID, requester: requester,
                        partNumberMarker: marker, maxParts: maxParts))
            case .listUploads(let query, let requester):
                return .uploads(try machine.listUploads(query, requester: requester))
            case .garbageChunks(let limit): return .garbage(try machine.garbageChunks(limit: limit))
            case .referencedChunks(let ids):
                return .chunkIDs(try machine.referencedChunks(ids).sorted())
            case .usage(let target): return .usage(try machine.usageReport(target))
            case .appliedIndex: return .index(machine.appliedIndex())
            case .objectAccess(let bucket, let key):
                let record = try machine.existingBucket(bucket)
                return .objectAccess(record, try machine.objectRecord(bucket: bucket, key: key))
            case .objectVersion(let bucket, let key, let versionID, let requester):
                return .objectVersion(
                    try machine.objectVersion(bucket: bucket, key: key, versionID: versionID, requester: requester))
            case .listVersions(let query, let requester):
                return .versions(try machine.listVersions(query, requester: requester))
            case .bucketVersioning(let bucket, let requester):
                return .versioning(try machine.bucketVersioning(bucket, requester: requester))
            case .chunkPlacements(let position, let limit):
                let page = try machine.chunkPlacements(after: position, limit: limit)
                return .placements(ChunkPlacementPage(chunks: page.chunks, next: page.next))
            case .bucketTagging(let bucket): return .text(try machine.bucketText(.tags, bucket: bucket))
            case .bucketCORS(let bucket): return .text(try machine.bucketText(.cors, bucket: bucket))
            case .bucketLifecycle(let bucket): return .text(try machine.bucketText(.lifecycle, bucket: bucket))
            case .locatedChunkPlacements(let position, let limit):
                return .locatedPlacements(try machine.chunkPlacements(after: position, limit: limit))
            case .bucketDurability(let bucket):
                return .durability(try machine.bucketDurability(bucket))
            case .blobMap:
                return .blobMap(try machine.blobMap())
            case .objectLockConfiguration(let bucket):
                return .objectLock(try machine.objectLockConfiguration(bucket))
            }
        } catch let refusal as MetaError {
            return .failed(refusal)
        }
    }

    func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        writer.writeByte(Self.formatVersion)
        switch self {
        case .listUsers:
            writer.writeByte(1)
        case .user(let accessKeyID):
            writer.writeByte(2)
            writer.writeString(accessKeyID)
        case .listBuckets(let owner):
            writer.writeByte(3)
            writer.writeString(owner)
        case .bucket(let name):
            writer.writeByte(4)
            writer.writeString(name)
        case .object(let bucket, let key, let requester):
            writer.writeByte(5)
            for text in [bucket, key, requester] { writer.writeString(text) }
        case .listObjects(let query, let requester):
            writer.writeByte(6)
            for text in [query.bucket, query.prefix, query.delimiter, query.startAfter] { writer.writeString(text) }
            writer.writeInt(query.maxKeys)
            writer.writeString(requester)
        case .upload(let bucket, let key, let uploadID, let requester):
            writer.writeByte(7)
            for text in [bucket, key, uploadID, requester] { writer.writeString(text) }
        case .listParts(let bucket, let key, let uploadID, let requester, let marker, let maxParts):
            writer.writeByte(8)
            for text in [bucket, key, uploadID, requester] { writer.writeString(text) }
            writer.writeInt(marker)
            writer.writeInt(maxParts)
        case .listUploads(let query, let requester):
            writer.writeByte(9)
            for text in [query.bucket, query.prefix, query.delimiter, query.keyMarker, query.uploadIDMarker] {
                writer.writeString(text)
            }
            writer.writeInt(query.maxUploads)
            writer.writeString(requester)
        case .garbageChunks(let limit):
            writer.writeByte(10)
            writer.writeInt(limit)
        case .referencedChunks(let ids):
            writer.writeByte(11)
            writer.writeCount(ids.count)
            for id in ids { writer.writeChunkID(id) }
        case .usage(let target):
            writer.writeByte(12)
            writer.write(target)
        case .appliedIndex:
            writer.writeByte(13)
        case .objectAccess(let bucket, let key):
            writer.writeByte(40)
            writer.writeString(bucket)
            writer.writeString(key)
        case .objectVersion(let bucket, let key, let versionID, let requester):
            writer.writeByte(30)
            for text in [bucket, key] { writer.writeString(text) }
            writer.write(versionID)
            writer.writeString(requester)
        case .listVersions(let query, let requester):
            writer.writeByte(31)
            for text in [query.bucket, query.prefix, query.delimiter, query.keyMarker, query.versionIDMarker] {
                writer.writeString(text)
            }
            writer.writeInt(query.maxKeys)
            writer.writeString(requester)
        case .bucketVersioning(let bucket, let requester):
            writer.writeByte(32)
            writer.writeString(bucket)
            writer.writeString(requester)
        case .chunkPlacements(let position, let limit):
            writer.writeByte(14)
            writer.write(position)
            writer.writeInt(limit)
        case .bucketTagging(let bucket):
            writer.writeByte(50)
            writer.writeString(bucket)
        case .bucketCORS(let bucket):
            writer.writeByte(51)
            writer.writeString(bucket)
        case .bucketDurability(let bucket):
            writer.writeByte(60)
            writer.writeString(bucket)
        case .objectLockConfiguration(let bucket):
            writer.writeByte(62)
            writer.writeString(bucket)
        case .bucketLifecycle(let bucket):
            writer.writeByte(63)
            writer.writeString(bucket)
        case .locatedChunkPlacements(let position, let limit):
            writer.writeByte(61)
            writer.write(position)
            writer.writeInt(limit)
        case .blobMap:
            writer.writeByte(70)
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        let format = try reader.readByte()
        guard format == Self.formatVersion else { throw .unsupportedVersion(format) }
        switch try reader.readByte() {
        case 1: self = .listUsers
        case 2: self = .user(accessKeyID: try reader.readString())
        case 3: self = .listBuckets(owner: try reader.readString())
        case 4: self = .bucket(name: try reader.readString())
        case 5:
            self = .object(bucket: try reader.readString(), key: try reader.readString(), requester: try reader.readString())
        case 6:
            let query = ListObjectsQuery(
                bucket: try reader.readString(), prefix: try reader.readString(), delimiter: try reader.readString(),
                startAfter: try reader.readString(), maxKeys: try reader.readInt())
            self = .listObjects(query, requester: try reader.readString())
        case 7:
            self = .upload(
                bucket: try reader.readString(), key: try reader.readString(), uploadID: try reader.readString(),
                requester: try reader.readString())
        case 8:
            self = .listParts(
                bucket: try reader.readString(), key: try reader.readString(), uploadID: try reader.readString(),
                requester: try reader.readString(), partNumberMarker: try reader.readInt(), maxParts: try reader.readInt())
        case 9:
            let query = ListUploadsQuery(
                bucket: try reader.readString(), prefix: try reader.readString(), delimiter: try reader.readString(),
                keyMarker: try reader.readString(), uploadIDMarker: try reader.readString(),
                maxUploads: try reader.readInt())
            self = .listUploads(query, requester: try reader.readString())
        case 10: self = .garbageChunks(limit: try reader.readInt())
        case 11:
            let count = try reader.readCount(elementBytesMin: 16)
            var ids: [ChunkID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try reader.readChunkID()) }
            self = .referencedChunks(ids)
        case 12: self = .usage(try reader.readQuotaTarget())
        case 13: self = .appliedIndex
        case 40: self = .objectAccess(bucket: try reader.readString(), key: try reader.readString())
        case 30:
            self = .objectVersion(
                bucket: try reader.readString(), key: try reader.readString(), versionID: try reader.readOptionalString(),
                requester: try reader.readString())
        case 31:
            let query = ListVersionsQuery(
                bucket: try reader.readString(), prefix: try reader.readString(), delimiter: try reader.readString(),
                keyMarker: try reader.readString(), versionIDMarker: try reader.readString(),
                maxKeys: try reader.readInt())
            self = .listVersions(query, requester: try reader.readString())
        case 32: self = .bucketVersioning(bucket: try reader.readString(), requester: try reader.readString())
        case 14: self = .chunkPlacements(after: try reader.readScanPosition(), limit: try reader.readInt())
        case 50: self = .bucketTagging(bucket: try reader.readString())
        case 51: self = .bucketCORS(bucket: try reader.readString())
        case 60: self = .bucketDurability(bucket: try reader.readString())
        case 62: self = .objectLockConfiguration(bucket: try reader.readString())
        case 63: self = .bucketLifecycle(bucket: try reader.readString())
        case 61: self = .locatedChunkPlacements(after: try reader.readScanPosition(), limit: try reader.readInt())
        case 70: self = .blobMap
        case let tag: throw .invalidTag(tag)
        }
        try reader.expectEnd()
    }
}

/// The answer to a `MetaQuery`: one case per kind of answer, plus `.failed` for a refusal.
enum MetaQueryResult: Sendable, Equatable {
    case users([UserRecord])
    case user(UserRecord?)
    case buckets([BucketRecord])
    case bucket(BucketRecord?)
    case object(ObjectRecord?)
    case objects(ListObjectsPage)
    case upload(UploadRecord?)
    case parts(ListPartsPage)
    case uploads(ListUploadsPage)
    case garbage([GarbageChunk])
    /// Ascending.
    case chunkIDs([ChunkID])
    case usage(UsageReport)
    case index(UInt64)
    case placements(ChunkPlacementPage)
    case failed(MetaError)
    /// `objectAccess`: the bucket and the key's current version, if any (result format 2).
    case objectAccess(BucketRecord, ObjectRecord?)
    /// Tag 30.
    case objectVersion(ObjectVersion?)
    /// Tag 31.
    case versions(ListVersionsPage)
    /// Tag 32.
    case versioning(BucketVersioning)
    /// `bucketTagging`, `bucketCORS`, `bucketLifecycle`: the stored text, nil for none (tag 50).
    case text(String?)
    /// `bucketDurability`: nil for the cluster's default (tag 60).
    case durability(BucketDurability?)
    /// `objectLockConfiguration`: nil when object lock is not enabled (tag 62).
    case objectLock(ObjectLockConfiguration?)
    /// `locatedChunkPlacements`: a page whose `records` name each chunk's record (tag 61).
    case locatedPlacements(ChunkPlacementPage)
    /// `blobMap`: every registered node and the ring epoch (tag 70).
    case blobMap(BlobMap)

    /// Record formats inside follow `MetaCommandResult.formatVersion`. 2: bucket records carry their ACL,
    /// ownership controls and policy. 3: and their public access block.
    static let formatVersion: UInt8 = 3
    static let decodableFormats: ClosedRange<UInt8> = 1...3

    func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        writer.writeByte(Self.formatVersion)
        switch self {
        case .users(let users):
            writer.writeByte(1)
            writer.writeCount(users.count)
            for user in users { writer.write(user) }
        case .user(let user):
            writer.writeByte(2)
            writer.writeBool(user != nil)
            if let user { writer.write(user) }
        case .buckets(let buckets):
            writer.writeByte(3)
            writer.writeCount(buckets.count)
            for bucket in buckets { writer.write(bucket) }
        case .bucket(let bucket):
            writer.writeByte(4)
            writer.writeBool(bucket != nil)
            if let bucket { writer.write(bucket) }
        case .object(let object):
            writer.writeByte(5)
            writer.writeBool(object != nil)
            if let object { writer.write(object) }
        case .objects(let page):
            writer.writeByte(6)
            writer.writeCount(page.objects.count)
            for summary in page.objects {
                writer.writeString(summary.key)
                writer.writeInt(summary.sizeBytes)
                writer.writeString(summary.etag)
                writer.writeInt(summary.lastModifiedTime)
                writer.writeString(summary.owner)
            }
            writer.writeCount(page.commonPrefixes.count)
            for prefix in page.commonPrefixes { writer.writeString(prefix) }
            writer.writeBool(page.isTruncated)
            writer.write(page.nextMarker)
        case .upload(let upload):
            writer.writeByte(7)
            writer.writeBool(upload != nil)
            if let upload { writer.write(upload) }
        case .parts(let page):
            writer.writeByte(8)
            writer.write(page.upload)
            writer.writeCount(page.parts.count)
            for part in page.parts { writer.write(part) }
            writer.writeBool(page.isTruncated)
            writer.writeInt(page.nextPartNumberMarker)
        case .uploads(let page):
            writer.writeByte(9)
            writer.writeCount(page.uploads.count)
            for upload in page.uploads { writer.write(upload) }
            writer.writeCount(page.commonPrefixes.count)
            for prefix in page.commonPrefixes { writer.writeString(prefix) }
            writer.writeBool(page.isTruncated)
            writer.write(page.nextKeyMarker)
            writer.write(page.nextUploadIDMarker)
        case .garbage(let chunks):
            writer.writeByte(10)
            writer.writeCount(chunks.count)
            for garbage in chunks {
                writer.write(garbage.chunk)
                writer.writeInt(garbage.queuedTime)
            }
        case .chunkIDs(let ids):
            writer.writeByte(11)
            writer.writeCount(ids.count)
            for id in ids { writer.writeChunkID(id) }
        case .usage(let report):
            writer.writeByte(12)
            writer.writeInt(report.bytes)
            writer.writeInt(report.objects)
            for limit in [report.quota.bytesMax, report.quota.objectsMax] {
                writer.writeBool(limit != nil)
                if let limit { writer.writeInt(limit) }
            }
        case .index(let index):
            writer.writeByte(13)
            writer.writeVarint(index)
        case .failed(let error):
            writer.writeByte(14)
            writer.write(error)
        case .objectAccess(let bucket, let object):
            writer.writeByte(40)
            writer.write(bucket)
            writer.writeBool(object != nil)
            if let object { writer.write(object) }
        case .objectVersion(let version):
            writer.writeByte(30)
            writer.writeBool(version != nil)
            if let version {
                writer.write(version.object)
                writer.writeBool(version.isDeleteMarker)
                writer.writeBool(version.isLatest)
            }
        case .versions(let page):
            writer.writeByte(31)
            writer.writeCount(page.versions.count)
            for version in page.versions {
                writer.writeString(version.key)
                writer.writeString(version.versionID)
                writer.writeBool(version.isLatest)
                writer.writeBool(version.isDeleteMarker)
                writer.writeInt(version.sizeBytes)
                writer.writeString(version.etag)
                writer.writeInt(version.lastModifiedTime)
            }
            writer.writeCount(page.commonPrefixes.count)
            for prefix in page.commonPrefixes { writer.writeString(prefix) }
            writer.writeBool(page.isTruncated)
            writer.write(page.nextKeyMarker)
            writer.write(page.nextVersionIDMarker)
            writer.writeString(page.owner)
        case .versioning(let state):
            writer.writeByte(32)
            writer.writeByte(state.rawValue)
        case .placements(let page):
            writer.writeByte(15)
            writer.write(page.chunks)
            writer.write(page.next)
        case .text(let text):
            writer.writeByte(50)
            writer.write(text)
        case .durability(let durability):
            writer.writeByte(60)
            writer.write(durability)
        case .objectLock(let configuration):
            writer.writeByte(62)
            writer.write(configuration)
        case .locatedPlacements(let page):
            writer.writeByte(61)
            writer.write(page.chunks)
            writer.write(page.next)
            writer.writeCount(page.records.count)
            for record in page.records { writer.write(Optional(record)) }
        case .blobMap(let map):
            writer.writeByte(70)
            writer.write(map)
        }
        return writer.bytes
    }

    init(decoding bytes: [UInt8]) throws(MetaCodecError) {
        var reader = ByteReader(bytes)
        let format = try reader.readByte()
        guard Self.decodableFormats.contains(format) else { throw .unsupportedVersion(format) }
        let records = MetaCommandResult.formatVersion
        switch try reader.readByte() {
        case 1:
            let count = try reader.readCount(elementBytesMin: 4)
            var users: [UserRecord] = []
            for _ in 0..<count { users.append(try reader.readUser(format: records)) }
            self = .users(users)
        case 2: self = .user(try reader.readBool() ? try reader.readUser(format: records) : nil)
        case 3:
            let count = try reader.readCount(elementBytesMin: 3)
            var buckets: [BucketRecord] = []
            for _ in 0..<count { buckets.append(try reader.readBucket(format: format)) }
            self = .buckets(buckets)
        case 4: self = .bucket(try reader.readBool() ? try reader.readBucket(format: format) : nil)
        case 5: self = .object(try reader.readBool() ? try reader.readObject(format: records) : nil)
        case 6:
            let count = try reader.readCount(elementBytesMin: 5)
            var summaries: [ObjectSummary] = []
            for _ in 0..<count {
                summaries.append(
                    ObjectSummary(
                        key: try reader.readString(), sizeBytes: try reader.readInt64(), etag: try reader.readString(),
                        lastModifiedTime: try reader.readInt64(), owner: try reader.readString()))
            }
            let prefixes = try reader.readStrings()
            self = .objects(
                ListObjectsPage(
                    objects: summaries, commonPrefixes: prefixes, isTruncated: try reader.readBool(),
                    nextMarker: try reader.readOptionalString()))
        case 7: self = .upload(try reader.readBool() ? try reader.readUpload(format: records) : nil)
        case 8:
            let upload = try reader.readUpload(format: records)
            let count = try reader.readCount(elementBytesMin: 4)
            var parts: [PartRecord] = []
            for _ in 0..<count { parts.append(try reader.readPart()) }
            self = .parts(
                ListPartsPage(
                    upload: upload, parts: parts, isTruncated: try reader.readBool(),
                    nextPartNumberMarker: try reader.readInt()))
        case 9:
            let count = try reader.readCount(elementBytesMin: 4)
            var uploads: [UploadRecord] = []
            for _ in 0..<count { uploads.append(try reader.readUpload(format: records)) }
            let prefixes = try reader.readStrings()
            self = .uploads(
                ListUploadsPage(
                    uploads: uploads, commonPrefixes: prefixes, isTruncated: try reader.readBool(),
                    nextKeyMarker: try reader.readOptionalString(), nextUploadIDMarker: try reader.readOptionalString()))
        case 10:
            let count = try reader.readCount(elementBytesMin: 17)
            var chunks: [GarbageChunk] = []
            for _ in 0..<count {
                chunks.append(GarbageChunk(chunk: try reader.readChunk(), queuedTime: try reader.readInt64()))
            }
            self = .garbage(chunks)
        case 11:
            let count = try reader.readCount(elementBytesMin: 16)
            var ids: [ChunkID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try reader.readChunkID()) }
            self = .chunkIDs(ids)
        case 12:
            let bytes = try reader.readInt64()
            let objects = try reader.readInt64()
            let bytesMax = try reader.readBool() ? try reader.readInt64() : nil
            let objectsMax = try reader.readBool() ? try reader.readInt64() : nil
            self = .usage(UsageReport(bytes: bytes, objects: objects, quota: Quota(bytesMax: bytesMax, objectsMax: objectsMax)))
        case 13: self = .index(try reader.readVarint())
        case 14: self = .failed(try reader.readError())
        case 40 where format >= 2:
            let bucket = try reader.readBucket(format: format)
            self = .objectAccess(bucket, try reader.readBool() ? try reader.readObject(format: records) : nil)
        case 30:
            guard try reader.readBool() else {
                self = .objectVersion(nil)
                break
            }
            self = .objectVersion(
                ObjectVersion(object: try reader.readObject(format: records), isDeleteMarker: try reader.readBool(),
                              isLatest: try reader.readBool()))
        case 31:
            let count = try reader.readCount(elementBytesMin: 7)
            var versions: [VersionSummary] = []
            versions.reserveCapacity(count)
            for _ in 0..<count {
                versions.append(
                    VersionSummary(
                        key: try reader.readString(), versionID: try reader.readString(), isLatest: try reader.readBool(),
                        isDeleteMarker: try reader.readBool(), sizeBytes: try reader.readInt64(),
                        etag: try reader.readString(), lastModifiedTime: try reader.readInt64()))
            }
            let prefixes = try reader.readStrings()
            self = .versions(
                ListVersionsPage(
                    versions: versions, commonPrefixes: prefixes, isTruncated: try reader.readBool(),
                    nextKeyMarker: try reader.readOptionalString(), nextVersionIDMarker: try reader.readOptionalString(),
                    owner: try reader.readString()))
        case 32:
            let raw = try reader.readByte()
            guard let state = BucketVersioning(rawValue: raw) else { throw .invalidTag(raw) }
            self = .versioning(state)
        case 15:
            self = .placements(ChunkPlacementPage(chunks: try reader.readChunks(), next: try reader.readScanPosition()))
        case 50: self = .text(try reader.readOptionalString())
        case 60:
            self = .durability(try reader.readDurability())
        case 62:
            self = .objectLock(try reader.readObjectLockConfiguration())
        case 61:
            let chunks = try reader.readChunks()
            let next = try reader.readScanPosition()
            let count = try reader.readCount(elementBytesMin: 2)
            guard count == chunks.count || count == 0 else { throw .invalidValue("\(count) records for \(chunks.count) chunks") }
            var records: [ChunkScanPosition] = []
            records.reserveCapacity(count)
            for _ in 0..<count {
                guard let record = try reader.readScanPosition() else { throw .invalidValue("a chunk without its record") }
                records.append(record)
            }
            self = .locatedPlacements(ChunkPlacementPage(chunks: chunks, next: next, records: records))
        case 70: self = .blobMap(try reader.readBlobMap())
        case let tag: throw .invalidTag(tag)
        }
        try reader.expectEnd()
    }
}

extension ByteWriter {
    /// Result format 2 adds the ACL, ownership controls and policy; 3 the public access block.
    mutating func write(_ bucket: BucketRecord) {
        writeString(bucket.name)
        writeString(bucket.owner)
        writeInt(bucket.createdTime)
        write(bucket.acl)
        write(bucket.ownership)
        write(bucket.policy)
        writeBool(bucket.publicAccessBlock != nil)
        if let block = bucket.publicAccessBlock { writeByte(block.rawValue) }
    }

    mutating func write(_ target: QuotaTarget) {
        switch target {
        case .bucket(let name):
            writeByte(1)
            writeString(name)
        case .user(let name):
            writeByte(2)
            writeString(name)
        }
    }
}

extension ByteReader {
    mutating func readBucket(format: UInt8) throws(MetaCodecError) -> BucketRecord {
        let bucket = BucketRecord(name: try readString(), owner: try readString(), createdTime: try readInt64())
        guard format >= 2 else { return bucket }
        let (acl, ownership, policy) = (try readACL(), try readOwnership(), try readOptionalString())
        var block: PublicAccessBlock?
        if format >= 3, try readBool() {
            let bits = try readByte()
            guard let decoded = PublicAccessBlock(rawValue: bits) else { throw .invalidValue("public access block \(bits)") }
            block = decoded
        }
        return BucketRecord(name: bucket.name, owner: bucket.owner, createdTime: bucket.createdTime,
                            acl: acl, ownership: ownership, policy: policy, publicAccessBlock: block)
    }

    mutating func readQuotaTarget() throws(MetaCodecError) -> QuotaTarget {
        switch try readByte() {
        case 1: return .bucket(try readString())
        case 2: return .user(try readString())
        case let tag: throw .invalidTag(tag)
        }
    }

    mutating func readStrings() throws(MetaCodecError) -> [String] {
        let count = try readCount(elementBytesMin: 1)
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try readString()) }
        return strings
    }
}

extension ByteWriter {
    /// A `ChunkScanPosition?`: 0 for nil, 1 after an object (bucket, key), 2 after a part (upload id, number), 3
    /// after a noncurrent version (bucket, key, seq).
    mutating func write(_ position: ChunkScanPosition?) {
        switch position {
        case nil: writeByte(0)
        case .afterObject(let bucket, let key):
            writeByte(1)
            writeString(bucket)
            writeString(key)
        case .afterPart(let uploadID, let partNumber):
            writeByte(2)
            writeString(uploadID)
            writeInt(partNumber)
        case .afterVersion(let bucket, let key, let seq):
            writeByte(3)
            writeString(bucket)
            writeString(key)
            writeInt(seq)
        }
    }
}

extension ByteReader {
    mutating func readScanPosition() throws(MetaCodecError) -> ChunkScanPosition? {
        switch try readByte() {
        case 0: return nil
        case 1: return .afterObject(bucket: try readString(), key: try readString())
        case 2: return .afterPart(uploadID: try readString(), partNumber: try readInt())
        case 3: return .afterVersion(bucket: try readString(), key: try readString(), seq: try readInt64())
        case let tag: throw .invalidTag(tag)
        }
    }
}
