@testable import MetaQuorum

/// A small seeded PRNG so every random test replays exactly (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random values for codec and state machine tests, including awkward text (control characters,
/// non-ASCII, empty strings).
struct RandomValues {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func int64() -> Int64 {
        switch int(0...3) {
        case 0: return Int64.random(in: -5...5, using: &rng)
        case 1: return Int64.max - Int64.random(in: 0...3, using: &rng)
        case 2: return Int64.min + Int64.random(in: 0...3, using: &rng)
        default: return Int64.random(in: Int64.min...Int64.max, using: &rng)
        }
    }
    mutating func bool() -> Bool { Bool.random(using: &rng) }

    mutating func string(maxLength: Int = 12) -> String {
        let alphabet: [String] = ["a", "b", "z", "/", "0", "\u{0}", "\u{1}", "\n", "é", "日", "🦊", "%", " ", "\u{7F}"]
        var text = ""
        for _ in 0..<int(0...maxLength) { text += alphabet[int(0...(alphabet.count - 1))] }
        return text
    }

    mutating func chunkID() -> ChunkID {
        ChunkID(rng.next()) << 64 | ChunkID(rng.next())
    }

    /// Replicated chunks (any size a chunk can have: never negative, which marks an erasure-coded one on
    /// the wire) and erasure-coded ones with consistent stripes.
    mutating func chunks() -> [ChunkRef] {
        (0..<int(0...3)).map { _ in
            guard bool() else {
                return ChunkRef(
                    id: chunkID(), sizeBytes: int64() & Int64.max,
                    nodes: (0..<int(0...3)).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) })
            }
            return erasureChunk()
        }
    }

    mutating func erasureChunk() -> ChunkRef {
        let k = int(1...MetaLimits.erasureDataShardsMax)
        let m = int(1...MetaLimits.erasureParityShardsMax)
        let sizeBytes = [0, 1, int(0...(64 << 20)), Int(Int32.max)][int(0...3)]
        let stripe = ErasureStripe(
            dataShardCount: k, parityShardCount: m, shardSizeBytes: (sizeBytes + k - 1) / k,
            shardChecksums: (0..<(k + m)).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) })
        return ChunkRef(id: chunkID(), sizeBytes: Int64(sizeBytes),
                        nodes: (0..<(k + m)).map { _ in UInt32.random(in: 0...UInt32.max, using: &rng) },
                        layout: .erasure(stripe))
    }

    mutating func durability() -> BucketDurability? {
        switch int(0...2) {
        case 0: return nil
        case 1: return .replicas(int(1...MetaLimits.durabilityReplicasMax))
        default: return .erasure(dataShards: int(1...MetaLimits.erasureDataShardsMax),
                                 parityShards: int(1...MetaLimits.erasureParityShardsMax))
        }
    }

    mutating func fields() -> [HeaderField] {
        (0..<int(0...2)).map { _ in HeaderField(name: string(), value: string()) }
    }

    mutating func checksum() -> StoredChecksum? {
        bool() ? StoredChecksum(algorithm: string(), value: string(), type: string()) : nil
    }

    mutating func precondition() -> WritePrecondition {
        switch int(0...4) {
        case 0: return .none
        case 1: return .ifNoneMatchAny
        case 2: return .ifMatchAny
        case 3: return .ifNoneMatch(string())
        default: return .ifMatch(string())
        }
    }

    mutating func object() -> ObjectRecord {
        ObjectRecord(
            bucket: string(), key: string(), versionID: string(), sizeBytes: int64(), etag: string(),
            lastModifiedTime: int64(), headers: fields(), userMetadata: fields(), checksum: checksum(),
            chunks: chunks(), partSizes: (0..<int(0...3)).map { _ in int64() },
            inlineBody: bool() ? Array(string().utf8) : nil, owner: bool() ? string() : nil,
            acl: bool() ? acl() : nil)
    }

    mutating func acl() -> AccessControlList {
        AccessControlList(grants: (0..<int(0...4)).map { _ in
            let grantee: ACLGrantee
            switch int(0...2) {
            case 0: grantee = .user(id: string())
            case 1: grantee = .allUsers
            default: grantee = .authenticatedUsers
            }
            return ACLGrant(grantee: grantee, permission: ACLPermission.allCases[int(0...4)])
        })
    }

    mutating func upload() -> UploadRecord {
        UploadRecord(
            bucket: string(), key: string(), uploadID: string(), initiator: string(), initiatedTime: int64(),
            headers: fields(), userMetadata: fields(), checksumAlgorithm: bool() ? string() : nil,
            acl: bool() ? acl() : nil)
    }

    mutating func part() -> PartRecord {
        PartRecord(
            partNumber: Int(int64()), sizeBytes: int64(), etag: string(), lastModifiedTime: int64(),
            checksum: checksum(), chunks: chunks())
    }

    mutating func objectLock() -> ObjectLockConfiguration {
        guard bool() else { return ObjectLockConfiguration() }
        let period: DefaultRetention.Period = bool()
            ? .days(int(1...ObjectLockLimits.defaultRetentionDaysMax))
            : .years(int(1...ObjectLockLimits.defaultRetentionYearsMax))
        return ObjectLockConfiguration(defaultRetention: DefaultRetention(mode: bool() ? .governance : .compliance,
                                                                          period: period))
    }

    mutating func error() -> MetaError {
        let all: [MetaError] = [
            .noSuchBucket, .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty, .accessDenied,
            .noSuchKey, .noSuchUpload, .invalidPart(partNumber: int(0...10_000)), .invalidPartOrder,
            .entityTooSmall(partNumber: int(0...10_000)), .preconditionFailed, .requestTooOld, .userAlreadyExists,
            .noSuchUser, .invalidArgument(string()), .unavailable(string()), .internalFault(string()),
            .noSuchBucketPolicy, .ownershipControlsNotFound, .aclNotSupported, .bucketAccessChanged, .noSuchTagSet,
            .noSuchCORSConfiguration, .noSuchVersion, .versionIsDeleteMarker, .objectAccessChanged,
            .noSuchBlobNode(UInt32.random(in: 0...UInt32.max, using: &rng)),
            .blobNodeRemoved(UInt32.random(in: 0...UInt32.max, using: &rng)),
            .objectLockNotEnabled, .invalidBucketState(string()), .objectLocked(string()),
        ]
        return all[int(0...(all.count - 1))]
    }

    mutating func blobRegistration() -> BlobNodeRegistration {
        BlobNodeRegistration(id: UInt32.random(in: 0...UInt32.max, using: &rng), address: string(),
                             zone: bool() ? nil : string(), weight: int(0...1000),
                             capacityBytes: UInt64.random(in: 0...UInt64.max, using: &rng))
    }

    mutating func blobMap() -> BlobMap {
        BlobMap(epoch: UInt64.random(in: 0...UInt64.max, using: &rng), nodes: (0..<int(0...4)).map { _ in
            let registration = blobRegistration()
            return BlobNodeRecord(id: registration.id, address: registration.address, zone: registration.zone,
                                  weight: registration.weight, capacityBytes: registration.capacityBytes,
                                  state: BlobNodeState.allCases[int(0...3)], changedTime: int64())
        })
    }

    mutating func command() -> MetaCommand {
        let envelope = CommandEnvelope(commandID: string(), requester: string(), time: int64(),
                                       bucketAccess: bool() ? nil : BucketAccessStamp(value: UInt64(bitPattern: int64())))
        switch int(0...29) {
        case 23:
            return .setObjectLockConfiguration(envelope, bucket: string(), configuration: objectLock())
        case 24:
            return .putObjectRetention(
                envelope, bucket: string(), key: string(), versionID: bool() ? nil : string(),
                retention: bool() ? nil : ObjectRetention(mode: bool() ? .governance : .compliance, retainUntil: int64()),
                bypassGovernance: bool())
        case 25:
            return .putObjectLegalHold(envelope, bucket: string(), key: string(), versionID: bool() ? nil : string(),
                                       legalHold: bool())
        case 26: return .registerBlobNode(envelope, node: blobRegistration())
        case 27:
            return .setBlobNodeState(envelope, node: UInt32.random(in: 0...UInt32.max, using: &rng),
                                     state: BlobNodeState.allCases[int(0...3)])
        case 28:
            return .setBlobNodeLiveness(envelope, node: UInt32.random(in: 0...UInt32.max, using: &rng), alive: bool())
        case 22:
            return .setPublicAccessBlock(envelope, bucket: string(),
                                         block: bool() ? nil : PublicAccessBlock(rawValue: UInt8(int(0...15))))
        case 21: return .setMemberAddress(envelope, member: UInt64.random(in: 1...UInt64.max, using: &rng),
                                          apiAddress: bool() ? nil : string())
        case 16: return .setBucketDurability(envelope, bucket: string(), durability: durability())
        case 17:
            let records: [ChunkScanPosition] = [
                .afterObject(bucket: string(), key: string()),
                .afterVersion(bucket: string(), key: string(), seq: int64()),
                .afterPart(uploadID: string(), partNumber: int(1...10_000)),
            ]
            return .relocateChunk(envelope, record: records[int(0...2)], chunkID: chunkID(),
                                  from: UInt32.random(in: 0...UInt32.max, using: &rng),
                                  to: UInt32.random(in: 0...UInt32.max, using: &rng))
        case 18:
            return .putObjectTagging(envelope, bucket: string(), key: string(), versionID: bool() ? nil : string(),
                                     tags: bool() ? nil : string(),
                                     expected: bool() ? nil : ObjectAccessStamp(value: UInt64(bitPattern: int64())))
        case 19: return .setBucketTagging(envelope, bucket: string(), tags: bool() ? nil : string())
        case 20: return .setBucketCORS(envelope, bucket: string(), cors: bool() ? nil : string())
        case 14:
            return .deleteVersions(
                envelope, bucket: string(),
                targets: (0..<int(0...3)).map { _ in
                    DeleteTarget(key: string(), versionID: bool() ? nil : string(), markerVersionID: string())
                }, bypassGovernance: bool())
        case 15:
            return .setBucketVersioning(envelope, bucket: string(), state: [.unversioned, .enabled, .suspended][int(0...2)])
        case 0:
            return .createUser(
                envelope,
                user: UserRecord(
                    id: bool() ? nil : string(), name: string(), accessKeyID: string(),
                    secretAccessKey: string(), isRoot: bool(), createdTime: int64()))
        case 1: return .deleteUser(envelope, name: string(), heir: bool() ? nil : string())
        case 2:
            return .createBucket(envelope, name: string(), acl: bool() ? acl() : nil,
                                 ownership: bool() ? nil : ObjectOwnership.allCases[int(0...2)],
                                 objectLock: bool() ? nil : objectLock())
        case 3: return .deleteBucket(envelope, name: string(), abortingUploads: bool())
        case 4: return .putObject(envelope, object: object(), precondition: precondition(), startedTime: int64())
        case 5: return .deleteObjects(envelope, bucket: string(), keys: (0..<int(0...4)).map { _ in string() })
        case 6: return .createMultipartUpload(envelope, upload: upload())
        case 7:
            return .putPart(
                envelope, bucket: string(), key: string(), uploadID: string(), part: part(),
                startedTime: int64())
        case 8:
            return .completeMultipartUpload(
                envelope, bucket: string(), key: string(), uploadID: string(),
                parts: (0..<int(0...3)).map { _ in CompletedPart(partNumber: int(1...10_000), etag: string()) },
                precondition: precondition(), minimumPartSizeBytes: int64(),
                versionID: string())
        case 9: return .abortMultipartUpload(envelope, bucket: string(), key: string(), uploadID: string())
        case 10: return .putBucketACL(envelope, bucket: string(), acl: acl())
        case 11: return .putObjectACL(envelope, bucket: string(), key: string(), acl: acl())
        case 12:
            return .setOwnershipControls(envelope, bucket: string(),
                                         ownership: bool() ? nil : ObjectOwnership.allCases[int(0...2)])
        case 13: return .setBucketPolicy(envelope, bucket: string(), policy: bool() ? nil : string())
        default: return .forgetGarbage(envelope, chunkIDs: (0..<int(0...3)).map { _ in chunkID() })
        }
    }

    mutating func result() -> MetaCommandResult {
        switch int(0...5) {
        case 0: return .done
        case 1: return .deleted((0..<int(0...5)).map { _ in bool() })
        case 2: return .object(object())
        case 4:
            return .deletedVersions(
                (0..<int(0...3)).map { _ in
                    DeleteOutcome(versionID: bool() ? nil : string(), isDeleteMarker: bool(), removedCurrent: bool(),
                                  refusal: bool() ? nil : error())
                })
        case 5: return .stored(versionID: bool() ? nil : string())
        default: return .failed(error())
        }
    }
}

extension MetaCommand {
    /// A bucket with the owner-only ACL and no ownership controls (what every command before format 3 made).
    static func createBucket(_ envelope: CommandEnvelope, name: String) -> MetaCommand {
        .createBucket(envelope, name: name, acl: nil, ownership: nil)
    }
}

extension ObjectRecord {
    /// The record as the state machine stores a write of `owner` that asked for no ACL.
    func owned(by owner: String) -> ObjectRecord {
        var object = self
        object.owner = owner
        object.acl = .ownerOnly(owner)
        return object
    }
}

extension MetaCommand {
    /// The command's bytes as `format` (below 4) lays out the envelope: without the access-stamp flag. Only
    /// for kinds whose fields did not change between that format and this one.
    func encoded(asFormat format: UInt8) -> [UInt8] {
        precondition(format < 4 && envelope.bucketAccess == nil, "format \(format) has no bucket access stamp")
        var header = ByteWriter(capacity: 64)
        header.writeByte(format)
        header.writeByte(kind)
        header.writeString(envelope.commandID)
        header.writeString(envelope.requester)
        header.writeInt(envelope.time)
        var bytes = encode()
        precondition(bytes[header.bytes.count] == 0, "no stamp flag where format 4 puts it")
        bytes.remove(at: header.bytes.count)
        bytes[0] = format
        return bytes
    }
}
