/// Binary encodings of the contract's records, shared by commands, results and the SQLite blobs.
/// Field order is the format: append new fields only behind a new command format version.

/// The newest record formats this codec writes: what `MetaSchema` stores at its current version.
package enum RecordFormat {
    /// The object record format of `objects.record` and `versions.record` (3: with owner and ACL).
    package static let object: UInt8 = 3
}

extension ByteWriter {
    /// Format 2 (commands of format 2, `users.record` from schema 2): format 1 plus the id.
    package mutating func write(_ user: UserRecord) {
        writeString(user.name)
        writeString(user.accessKeyID)
        writeString(user.secretAccessKey)
        writeBool(user.isRoot)
        writeInt(user.createdTime)
        writeString(user.id)
    }

    /// A replicated chunk is written as every record before erasure coding was: id, size, nodes. An
    /// erasure-coded one writes its size as `-1 - size` (a chunk size is never negative, so an older record
    /// can never look like this) and appends its stripe after the nodes: k, m, shard size, a checksum per
    /// shard. The marker lives in the chunk itself, so object, part and garbage records of every schema and
    /// command format decode unchanged, with no migration of stored records.
    package mutating func write(_ chunk: ChunkRef) {
        writeChunkID(chunk.id)
        precondition(chunk.sizeBytes >= 0, "chunk size \(chunk.sizeBytes) < 0")
        switch chunk.layout {
        case .replicated: writeInt(chunk.sizeBytes)
        case .erasure: writeInt(-1 - chunk.sizeBytes)
        }
        writeCount(chunk.nodes.count)
        for node in chunk.nodes { writeVarint(UInt64(node)) }
        guard case .erasure(let stripe) = chunk.layout else { return }
        writeInt(stripe.dataShardCount)
        writeInt(stripe.parityShardCount)
        writeInt(stripe.shardSizeBytes)
        for checksum in stripe.shardChecksums { writeVarint(UInt64(checksum)) }
    }

    /// Format 4: 0 for nil (the cluster's default), 1 `replicas:N`, 2 `ec:K+M`.
    package mutating func write(_ durability: BucketDurability?) {
        switch durability {
        case nil: writeByte(0)
        case .replicas(let count)?:
            writeByte(1)
            writeInt(count)
        case .erasure(let k, let m)?:
            writeByte(2)
            writeInt(k)
            writeInt(m)
        }
    }

    package mutating func write(_ chunks: [ChunkRef]) {
        writeCount(chunks.count)
        for chunk in chunks { write(chunk) }
    }

    package mutating func write(_ fields: [HeaderField]) {
        writeCount(fields.count)
        for field in fields {
            writeString(field.name)
            writeString(field.value)
        }
    }

    package mutating func write(_ checksum: StoredChecksum?) {
        guard let checksum else { return writeBool(false) }
        writeBool(true)
        writeString(checksum.algorithm)
        writeString(checksum.value)
        writeString(checksum.type)
    }

    package mutating func write(_ text: String?) {
        guard let text else { return writeBool(false) }
        writeBool(true)
        writeString(text)
    }

    /// `format`: the record format to write (3 unless a migration writes an older schema's records).
    package mutating func write(_ object: ObjectRecord, format: UInt8 = RecordFormat.object) {
        writeString(object.bucket)
        writeString(object.key)
        writeString(object.versionID)
        writeInt(object.sizeBytes)
        writeString(object.etag)
        writeInt(object.lastModifiedTime)
        write(object.headers)
        write(object.userMetadata)
        write(object.checksum)
        write(object.chunks)
        writeCount(object.partSizes.count)
        for size in object.partSizes { writeInt(size) }
        // Format 2: the inline body.
        writeBool(object.inlineBody != nil)
        if let body = object.inlineBody { writeBytes(body) }
        // Format 3: owner and ACL (absent for records from before ACLs).
        guard format >= 3 else { return }
        write(object.owner)
        write(object.acl)
    }

    package mutating func write(_ upload: UploadRecord) {
        writeString(upload.bucket)
        writeString(upload.key)
        writeString(upload.uploadID)
        writeString(upload.initiator)
        writeInt(upload.initiatedTime)
        write(upload.headers)
        write(upload.userMetadata)
        write(upload.checksumAlgorithm)
        // Format 3: the ACL of the object to be.
        write(upload.acl)
    }

    package mutating func write(_ part: PartRecord) {
        writeInt(part.partNumber)
        writeInt(part.sizeBytes)
        writeString(part.etag)
        writeInt(part.lastModifiedTime)
        write(part.checksum)
        write(part.chunks)
    }

    package mutating func write(_ precondition: WritePrecondition) {
        switch precondition {
        case .none: writeByte(0)
        case .ifNoneMatchAny: writeByte(1)
        case .ifMatch(let etag):
            writeByte(2)
            writeString(etag)
        case .ifMatchAny: writeByte(3)
        case .ifNoneMatch(let etag):
            writeByte(4)
            writeString(etag)
        }
    }

    package mutating func write(_ error: MetaError) {
        switch error {
        case .noSuchBucket: writeByte(1)
        case .bucketAlreadyExists: writeByte(2)
        case .bucketAlreadyOwnedByYou: writeByte(3)
        case .bucketNotEmpty: writeByte(4)
        case .accessDenied: writeByte(5)
        case .noSuchKey: writeByte(6)
        case .noSuchUpload: writeByte(7)
        case .invalidPart(let partNumber):
            writeByte(8)
            writeInt(partNumber)
        case .invalidPartOrder: writeByte(9)
        case .entityTooSmall(let partNumber):
            writeByte(10)
            writeInt(partNumber)
        case .preconditionFailed: writeByte(11)
        case .requestTooOld: writeByte(12)
        case .userAlreadyExists: writeByte(13)
        case .noSuchUser: writeByte(14)
        case .userOwnsBuckets: writeByte(41)
        case .quotaExceeded(let message):
            writeByte(42)
            writeString(message)
        case .invalidArgument(let message):
            writeByte(15)
            writeString(message)
        case .unavailable(let message):
            writeByte(16)
            writeString(message)
        case .internalFault(let message):
            writeByte(17)
            writeString(message)
        case .insufficientStorage(let message):
            writeByte(40)
            writeString(message)
        case .outcomeUnknown(let message):
            writeByte(43)
            writeString(message)
        case .noSuchBucketPolicy: writeByte(50)
        case .ownershipControlsNotFound: writeByte(51)
        case .aclNotSupported: writeByte(52)
        case .noSuchTagSet: writeByte(60)
        case .noSuchCORSConfiguration: writeByte(61)
        case .noSuchLifecycleConfiguration: writeByte(84)
        case .noSuchVersion: writeByte(62)
        case .versionIsDeleteMarker: writeByte(63)
        case .objectAccessChanged: writeByte(64)
        case .bucketAccessChanged: writeByte(80)
        case .noSuchBlobNode(let id):
            writeByte(86)
            writeVarint(UInt64(id))
        case .blobNodeRemoved(let id):
            writeByte(87)
            writeVarint(UInt64(id))
        case .objectLockNotEnabled: writeByte(81)
        case .invalidBucketState(let message):
            writeByte(82)
            writeString(message)
        case .objectLocked(let message):
            writeByte(83)
            writeString(message)
        }
    }
}

extension ByteReader {
    /// `format` 1 has no id (the user's id is its name), 2 ends with it.
    package mutating func readUser(format: UInt8) throws(MetaCodecError) -> UserRecord {
        let name = try readString()
        let accessKeyID = try readString()
        let secret = try readString()
        let isRoot = try readBool()
        let createdTime = try readInt64()
        let id = format >= 2 ? try readString() : name
        return UserRecord(id: id, name: name, accessKeyID: accessKeyID, secretAccessKey: secret, isRoot: isRoot,
                          createdTime: createdTime)
    }

    /// See `ByteWriter.write(_: ChunkRef)`: a negative size field marks an erasure-coded chunk.
    package mutating func readChunk() throws(MetaCodecError) -> ChunkRef {
        let id = try readChunkID()
        let sizeField = try readInt64()
        let count = try readCount(elementBytesMin: 1)
        var nodes: [UInt32] = []
        nodes.reserveCapacity(count)
        for _ in 0..<count {
            let raw = try readVarint()
            guard let node = UInt32(exactly: raw) else { throw .invalidValue("node id \(raw)") }
            nodes.append(node)
        }
        guard sizeField < 0 else { return ChunkRef(id: id, sizeBytes: sizeField, nodes: nodes) }
        let sizeBytes = -1 - sizeField
        let k = try readInt()
        let m = try readInt()
        let shardSizeBytes = try readInt()
        // Bounded before any arithmetic: these are bytes from outside.
        guard (1...MetaLimits.shardIndexCount).contains(k), (1...MetaLimits.shardIndexCount).contains(m),
              k + m == count, k + m <= MetaLimits.shardIndexCount
        else { throw .invalidValue("stripe \(k)+\(m) over \(count) nodes") }
        guard sizeBytes <= Int64(Int32.max), shardSizeBytes >= 0,
              Int64(shardSizeBytes) == (sizeBytes + Int64(k) - 1) / Int64(k)
        else {
            throw .invalidValue("shard size \(shardSizeBytes) for a chunk of \(sizeBytes) in \(k) shards")
        }
        var checksums: [UInt32] = []
        checksums.reserveCapacity(count)
        for _ in 0..<count {
            let raw = try readVarint()
            guard let checksum = UInt32(exactly: raw) else { throw .invalidValue("shard checksum \(raw)") }
            checksums.append(checksum)
        }
        let stripe = ErasureStripe(dataShardCount: k, parityShardCount: m, shardSizeBytes: shardSizeBytes,
                                   shardChecksums: checksums)
        return ChunkRef(id: id, sizeBytes: sizeBytes, nodes: nodes, layout: .erasure(stripe))
    }

    package mutating func readDurability() throws(MetaCodecError) -> BucketDurability? {
        let durability: BucketDurability?
        switch try readByte() {
        case 0: return nil
        case 1: durability = .replicas(try readInt())
        case 2: durability = .erasure(dataShards: try readInt(), parityShards: try readInt())
        case let tag: throw .invalidTag(tag)
        }
        do { try durability?.validate() } catch { throw .invalidValue("durability \(durability!)") }
        return durability
    }

    package mutating func readChunks() throws(MetaCodecError) -> [ChunkRef] {
        let count = try readCount(elementBytesMin: 18)
        var chunks: [ChunkRef] = []
        chunks.reserveCapacity(count)
        for _ in 0..<count { chunks.append(try readChunk()) }
        return chunks
    }

    package mutating func readHeaderFields() throws(MetaCodecError) -> [HeaderField] {
        let count = try readCount(elementBytesMin: 2)
        var fields: [HeaderField] = []
        fields.reserveCapacity(count)
        for _ in 0..<count { fields.append(HeaderField(name: try readString(), value: try readString())) }
        return fields
    }

    package mutating func readChecksum() throws(MetaCodecError) -> StoredChecksum? {
        guard try readBool() else { return nil }
        return StoredChecksum(algorithm: try readString(), value: try readString(), type: try readString())
    }

    package mutating func readOptionalString() throws(MetaCodecError) -> String? {
        guard try readBool() else { return nil }
        return try readString()
    }

    /// `format` 1 has no inline body; 2 ends with one (or its absence).
    package mutating func readObject(format: UInt8) throws(MetaCodecError) -> ObjectRecord {
        let bucket = try readString()
        let key = try readString()
        let versionID = try readString()
        let sizeBytes = try readInt64()
        let etag = try readString()
        let lastModifiedTime = try readInt64()
        let headers = try readHeaderFields()
        let userMetadata = try readHeaderFields()
        let checksum = try readChecksum()
        let chunks = try readChunks()
        let count = try readCount(elementBytesMin: 1)
        var partSizes: [Int64] = []
        partSizes.reserveCapacity(count)
        for _ in 0..<count { partSizes.append(try readInt64()) }
        var inlineBody: [UInt8]?
        if format >= 2, try readBool() { inlineBody = try readBytes() }
        let owner = format >= 3 ? try readOptionalString() : nil
        let acl = format >= 3 ? try readOptionalACL() : nil
        return ObjectRecord(
            bucket: bucket, key: key, versionID: versionID, sizeBytes: sizeBytes, etag: etag,
            lastModifiedTime: lastModifiedTime, headers: headers, userMetadata: userMetadata,
            checksum: checksum, chunks: chunks, partSizes: partSizes, inlineBody: inlineBody,
            owner: owner, acl: acl)
    }

    /// `format` 3 ends with the ACL; 1 and 2 have none.
    package mutating func readUpload(format: UInt8) throws(MetaCodecError) -> UploadRecord {
        var upload = UploadRecord(
            bucket: try readString(), key: try readString(), uploadID: try readString(),
            initiator: try readString(), initiatedTime: try readInt64(), headers: try readHeaderFields(),
            userMetadata: try readHeaderFields(), checksumAlgorithm: try readOptionalString())
        if format >= 3 { upload.acl = try readOptionalACL() }
        return upload
    }

    package mutating func readPart() throws(MetaCodecError) -> PartRecord {
        PartRecord(
            partNumber: try readInt(), sizeBytes: try readInt64(), etag: try readString(),
            lastModifiedTime: try readInt64(), checksum: try readChecksum(), chunks: try readChunks())
    }

    package mutating func readPrecondition() throws(MetaCodecError) -> WritePrecondition {
        switch try readByte() {
        case 0: return .none
        case 1: return .ifNoneMatchAny
        case 2: return .ifMatch(try readString())
        case 3: return .ifMatchAny
        case 4: return .ifNoneMatch(try readString())
        case let tag: throw .invalidTag(tag)
        }
    }

    package mutating func readError() throws(MetaCodecError) -> MetaError {
        switch try readByte() {
        case 1: return .noSuchBucket
        case 2: return .bucketAlreadyExists
        case 3: return .bucketAlreadyOwnedByYou
        case 4: return .bucketNotEmpty
        case 5: return .accessDenied
        case 6: return .noSuchKey
        case 7: return .noSuchUpload
        case 8: return .invalidPart(partNumber: try readInt())
        case 9: return .invalidPartOrder
        case 10: return .entityTooSmall(partNumber: try readInt())
        case 11: return .preconditionFailed
        case 12: return .requestTooOld
        case 13: return .userAlreadyExists
        case 14: return .noSuchUser
        case 41: return .userOwnsBuckets
        case 42: return .quotaExceeded(try readString())
        case 15: return .invalidArgument(try readString())
        case 16: return .unavailable(try readString())
        case 17: return .internalFault(try readString())
        case 40: return .insufficientStorage(try readString())
        case 43: return .outcomeUnknown(try readString())
        case 50: return .noSuchBucketPolicy
        case 51: return .ownershipControlsNotFound
        case 52: return .aclNotSupported
        case 60: return .noSuchTagSet
        case 61: return .noSuchCORSConfiguration
        case 84: return .noSuchLifecycleConfiguration
        case 62: return .noSuchVersion
        case 63: return .versionIsDeleteMarker
        case 64: return .objectAccessChanged
        case 80: return .bucketAccessChanged
        case 86: return .noSuchBlobNode(try readNodeID())
        case 87: return .blobNodeRemoved(try readNodeID())
        case 81: return .objectLockNotEnabled
        case 82: return .invalidBucketState(try readString())
        case 83: return .objectLocked(try readString())
        case let tag: throw .invalidTag(tag)
        }
    }
}

/// Stored-record helpers: one record per SQLite blob.
package enum RecordBlob {
    package static func encode(_ body: (inout ByteWriter) -> Void) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        body(&writer)
        return writer.bytes
    }

    package static func decode<T>(_ bytes: [UInt8], _ body: (inout ByteReader) throws(MetaCodecError) -> T)
        throws(MetaCodecError) -> T
    {
        var reader = ByteReader(bytes)
        let value = try body(&reader)
        try reader.expectEnd()
        return value
    }
}
