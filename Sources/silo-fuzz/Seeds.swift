@testable import BlobNode
import Foundation
@testable import MetaQuorum
@testable import RaftKit
import S3Protocol

/// Valid inputs for every target, made with the real encoders and signer (`silo-fuzz seeds DIR`), so the
/// fuzzer starts deep inside each parser instead of at its first check. `ops/fuzz/corpus` holds the output.
enum FuzzSeeds {
    static func all() -> [String: [[UInt8]]] {
        var seeds: [String: [[UInt8]]] = [:]
        seeds["sigv4"] = sigV4Requests()
        seeds["sigv2"] = [
            text("GET /bucket/key?AWSAccessKeyId=\(FuzzIdentity.accessKeyID)&Expires=1796083500&Signature=abc%3D",
                 ["host: 127.0.0.1:9000"]),
            text("GET /bucket/key", ["host: 127.0.0.1:9000", "date: Tue, 01 Dec 2026 00:00:00 GMT",
                                     "authorization: AWS \(FuzzIdentity.accessKeyID):c2lnbmF0dXJl"]),
        ]
        seeds["aws-chunked"] = [
            [0x00] + Array("5;chunk-signature=\(String(repeating: "a", count: 64))\r\nhello\r\n0;chunk-signature=\(String(repeating: "b", count: 64))\r\n\r\n".utf8),
            [0x82] + Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".utf8),
        ]
        seeds["xml-complete-multipart"] = [Array("""
            <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag>\
            <ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber><ETag>b</ETag></Part>\
            </CompleteMultipartUpload>
            """.utf8)]
        seeds["xml-delete-objects"] = [Array("""
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>\
            <Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>null</VersionId></Object></Delete>
            """.utf8)]
        seeds["xml-create-bucket"] = [Array("""
            <CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>
            """.utf8)]
        seeds["xml-acl"] = [Array("""
            <AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>abc</ID></Owner>            <AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"             xsi:type="CanonicalUser"><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>            <Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>            <Permission>READ</Permission></Grant><Grant><Grantee><EmailAddress>a@b.c</EmailAddress></Grantee>            <Permission>WRITE</Permission></Grant></AccessControlList></AccessControlPolicy>
            """.utf8), Array("id=\"abc\", emailAddress=\"a@b.c\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"".utf8),
            Array("<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>".utf8)]
        seeds["xml-tagging-cors"] = [
            Array("<Tagging><TagSet><Tag><Key>a b</Key><Value>1</Value></Tag><Tag><Key>c</Key><Value></Value></Tag></TagSet></Tagging>".utf8),
            Array("team=blue&env=prod%20x&bare".utf8),
            Array("""
                <CORSConfiguration><CORSRule><ID>r</ID><AllowedHeader>x-amz-*</AllowedHeader>\
                <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://*.example</AllowedOrigin>\
                <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule>\
                <CORSRule><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>
                """.utf8),
        ]
        seeds["xml-object-lock"] = [
            Array("""
                <ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>\
                <Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>
                """.utf8),
            Array("<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-01T00:00:00.123Z</RetainUntilDate></Retention>".utf8),
            Array("<LegalHold><Status>ON</Status></LegalHold>".utf8),
        ]
        seeds["bucket-policy"] = [Array("""
            {"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Principal":"*",            "Action":["s3:GetObject","s3:List*"],"Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"],            "Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]},            "StringLikeIfExists":{"aws:Referer":"http://*.example.com/*"},"NumericLessThan":{"s3:max-keys":10},            "DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"Bool":{"aws:SecureTransport":false},            "ForAnyValue:StringEquals":{"s3:prefix":["a","${aws:username}/"]},"Null":{"aws:username":"true"}}},            {"Effect":"Deny","NotPrincipal":{"AWS":["user","arn:aws:iam::1:user/x"],"CanonicalUser":"ab"},            "NotAction":"s3:Get*","NotResource":"arn:aws:s3:::bucket/public/*"}]}
            """.utf8)]
        seeds["http-headers"] = [text("GET /", [
            "range: bytes=0-99", "range: bytes=-5", "range: bytes=7-", "x-amz-copy-source-range: bytes=0-1",
            "if-match: \"abc\", W/\"def\"", "if-none-match: *", "if-modified-since: Tue, 01 Dec 2026 00:00:00 GMT",
            "if-unmodified-since: 20261201T000000Z", "x-amz-copy-source-if-match: \"abc\"",
            "x-amz-copy-source: /bucket/key%20a?versionId=null", "x-amz-checksum-crc32c: AAAAAA==",
            "x-amz-sdk-checksum-algorithm: CRC64NVME", "x-amz-meta-colour: blue",
        ])]
        seeds["endpoint"] = [
            text("PUT /bucket/key%2Fa?partNumber=3&uploadId=abc", ["host: 127.0.0.1"]),
            text("GET /?list-type=2&prefix=a&delimiter=/", ["host: bucket.localhost:9000"]),
            text("PUT /bucket/dst", ["host: 127.0.0.1", "x-amz-copy-source: bucket/src"]),
            text("POST /bucket?delete", ["host: 127.0.0.1"]),
        ]
        seeds["raft-frame"] = raftFrames()
        seeds["raft-message"] = raftMessages().map { encodeMessage($0) }
        seeds["raft-wal-record"] = [walRecords()]
        seeds["meta-command"] = metaCommands()
        seeds["meta-rpc"] = metaRPC()
        seeds["blob-record-header"] = [blobHeader()]
        seeds["blob-wire"] = blobWireFrames()
        return seeds
    }

    static func text(_ first: String, _ headers: [String], body: String = "") -> [UInt8] {
        Array(([first] + headers).joined(separator: "\r\n").utf8) + Array("\r\n\r\n\(body)".utf8)
    }

    static func sigV4Requests() -> [[UInt8]] {
        var out: [[UInt8]] = []
        for (method, path, query, body) in [("GET", "/bucket", "list-type=2&prefix=a", ""),
                                            ("PUT", "/bucket/key", "", "hello")] {
            let headers = [(name: "host", value: "127.0.0.1:9000")]
            let signed = SigV4Signer.sign(
                method: method, rawPath: path, rawQuery: query, headers: headers, body: Array(body.utf8),
                accessKeyID: FuzzIdentity.accessKeyID, secretAccessKey: FuzzIdentity.secretAccessKey,
                region: FuzzIdentity.region, service: "s3", nowMilliseconds: FuzzIdentity.nowMilliseconds)
            let lines = (headers + signed).map { "\($0.name): \($0.value)" }
            out.append(text("\(method) \(path)\(query.isEmpty ? "" : "?" + query)", lines, body: body))
        }
        out.append(text("GET /bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\(FuzzIdentity.accessKeyID)%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=\(String(repeating: "0", count: 64))",
                        ["host: 127.0.0.1:9000"]))
        return out
    }

    static func raftMessages() -> [Message] {
        let entries = [Entry(term: 2, index: 5, data: Array("put".utf8)), Entry(term: 2, index: 6)]
        let metadata = SnapshotMetadata(index: 4, term: 1, confState: ConfState(voters: [1, 2, 3], learners: [4]))
        return [
            Message(from: 1, to: 2, term: 2, kind: .append(prevIndex: 4, prevTerm: 1, entries: entries, commit: 4)),
            Message(from: 2, to: 1, term: 2, kind: .appendAccepted(matchIndex: 6)),
            Message(from: 2, to: 1, term: 2, kind: .appendRejected(rejectedIndex: 4, hintIndex: 3, hintTerm: 1)),
            Message(from: 3, to: 1, term: 3, kind: .voteRequest(preVote: true, lastIndex: 6, lastTerm: 2, leadershipTransfer: false)),
            Message(from: 1, to: 3, term: 3, kind: .voteResponse(preVote: true, granted: true)),
            Message(from: 1, to: 2, term: 2, kind: .heartbeat(commit: 6, readRound: 9)),
            Message(from: 1, to: 2, term: 2, kind: .snapshotChunk(metadata: metadata, offset: 0, totalBytes: 3, data: [1, 2, 3])),
        ]
    }

    static func encodeMessage(_ message: Message) -> [UInt8] {
        var bytes: [UInt8] = []
        message.encode(into: &bytes)
        return bytes
    }

    static func raftFrames() -> [[UInt8]] {
        var buffer = ByteBufferAllocatorBox.make()
        for message in raftMessages() {
            FrameCodec.encode(TransportFrame(from: message.from, payload: encodeMessage(message)), into: &buffer)
        }
        return [buffer.readBytes(length: buffer.readableBytes) ?? []]
    }

    static func walRecords() -> [UInt8] {
        var bytes: [UInt8] = []
        WALRecordCodec.encode(.entry(index: 1, payload: Array("entry".utf8)), into: &bytes)
        WALRecordCodec.encode(.hardState(HardStateBytes.sample), into: &bytes)
        WALRecordCodec.encode(.truncateSuffix(fromIndex: 1), into: &bytes)
        WALRecordCodec.encode(.compact(throughIndex: 1, payload: [7]), into: &bytes)
        return bytes
    }

    static func metaCommands() -> [[UInt8]] {
        let envelope = CommandEnvelope(commandID: "0123456789abcdef", requester: "alice", time: 1_796_083_200_000)
        let chunk = ChunkRef(id: ChunkID(1), sizeBytes: 5, nodes: [1])
        let object = ObjectRecord(bucket: "bucket", key: "key", versionID: "v1", sizeBytes: 5, etag: "abc",
                                  lastModifiedTime: 1, headers: [HeaderField(name: "content-type", value: "text/plain")],
                                  userMetadata: [HeaderField(name: "colour", value: "blue")],
                                  checksum: StoredChecksum(algorithm: "CRC32", value: "AAAAAA==", type: "FULL_OBJECT"),
                                  chunks: [chunk], partSizes: [])
        let commands: [MetaCommand] = [
            .createUser(envelope, user: UserRecord(name: "bob", accessKeyID: "AK", secretAccessKey: "secret",
                                                   isRoot: false, createdTime: 1)),
            .createBucket(envelope, name: "bucket", acl: nil, ownership: nil),
            .createBucket(envelope, name: "shared", acl: AccessControlList(grants: [
                ACLGrant(grantee: .user(id: "u:1"), permission: .fullControl),
                ACLGrant(grantee: .allUsers, permission: .read),
            ]), ownership: .bucketOwnerPreferred),
            .putBucketACL(envelope, bucket: "bucket", acl: .ownerOnly("u:1")),
            .putObjectACL(envelope, bucket: "bucket", key: "k", acl: AccessControlList(grants: [
                ACLGrant(grantee: .authenticatedUsers, permission: .readACP),
            ])),
            .setOwnershipControls(envelope, bucket: "bucket", ownership: .bucketOwnerEnforced),
            .setOwnershipControls(envelope, bucket: "bucket", ownership: nil),
            .setBucketPolicy(envelope, bucket: "bucket", policy: "{\"Version\":\"2012-10-17\",\"Statement\":[]}"),
            .setBucketPolicy(envelope, bucket: "bucket", policy: nil),
            .putObjectTagging(envelope, bucket: "bucket", key: "k", versionID: "v1", tags: "a=1&b=2",
                              expected: ObjectAccessStamp(value: 0x1234_5678_9abc_def0)),
            .putObjectTagging(envelope, bucket: "bucket", key: "k", versionID: nil, tags: nil, expected: nil),
            .setBucketTagging(envelope, bucket: "bucket", tags: "team=x"),
            .setBucketCORS(envelope, bucket: "bucket", cors: "<CORSConfiguration/>"),
            .setMemberAddress(envelope, member: 4, apiAddress: "10.0.0.4:7200"),
            .setMemberAddress(envelope, member: 4, apiAddress: nil),
            .setPublicAccessBlock(envelope, bucket: "bucket",
                                  block: PublicAccessBlock(blockPublicAcls: true, ignorePublicAcls: false,
                                                           blockPublicPolicy: true, restrictPublicBuckets: false)),
            .setPublicAccessBlock(envelope, bucket: "bucket", block: nil),
            .registerBlobNode(envelope, node: BlobNodeRegistration(id: 3, address: "10.0.0.3:7300", zone: "rack-a",
                                                                   weight: 2, capacityBytes: 4 << 40)),
            .registerBlobNode(envelope, node: BlobNodeRegistration(id: 4, address: "10.0.0.4:7300", zone: nil,
                                                                   weight: 0, capacityBytes: 0)),
            .setBlobNodeState(envelope, node: 3, state: .draining),
            .setBlobNodeState(envelope, node: 3, state: .removed),
            .setBlobNodeLiveness(envelope, node: 4, alive: false),
            .putObject(envelope, object: object, precondition: .ifMatch("abc"), startedTime: 1),
            .deleteObjects(envelope, bucket: "bucket", keys: ["a", "b"]),
            .completeMultipartUpload(envelope, bucket: "bucket", key: "key", uploadID: "u",
                                     parts: [CompletedPart(partNumber: 1, etag: "e")], precondition: .ifNoneMatchAny,
                                     minimumPartSizeBytes: 5, versionID: "v2"),
            .forgetGarbage(envelope, chunkIDs: [ChunkID(2)]),
            .deleteVersions(envelope, bucket: "bucket", targets: [
                DeleteTarget(key: "a", versionID: nil, markerVersionID: "0123456789abcdef0123456789abcdef"),
                DeleteTarget(key: "b", versionID: "null", markerVersionID: ""),
            ]),
            .setBucketVersioning(envelope, bucket: "bucket", state: .suspended),
            .setBucketDurability(envelope, bucket: "bucket", durability: .erasure(dataShards: 4, parityShards: 2)),
            .setBucketDurability(envelope, bucket: "bucket", durability: nil),
            .relocateChunk(envelope, record: .afterVersion(bucket: "bucket", key: "ec", seq: 3), chunkID: ChunkID(3),
                           from: 2, to: 7),
            .putObject(envelope, object: ObjectRecord(
                bucket: "bucket", key: "ec", versionID: "v3", sizeBytes: 10, etag: "abc", lastModifiedTime: 1,
                headers: [], userMetadata: [], checksum: nil,
                chunks: [ChunkRef(id: ChunkID(3), sizeBytes: 10, nodes: [1, 2, 3],
                                  layout: .erasure(ErasureStripe(dataShardCount: 2, parityShardCount: 1,
                                                                 shardSizeBytes: 5, shardChecksums: [7, 8, 9])))],
                partSizes: []), precondition: .none, startedTime: 1),
            // Object lock (format 5, kinds 62–64, and the trailing fields of createBucket and deleteVersions).
            .createBucket(envelope, name: "locked", acl: nil, ownership: nil, objectLock: ObjectLockConfiguration()),
            .setObjectLockConfiguration(envelope, bucket: "locked", configuration: ObjectLockConfiguration(
                defaultRetention: DefaultRetention(mode: .governance, period: .days(1)))),
            .setObjectLockConfiguration(envelope, bucket: "locked", configuration: ObjectLockConfiguration(
                defaultRetention: DefaultRetention(mode: .compliance, period: .years(100)))),
            .putObjectRetention(envelope, bucket: "locked", key: "k", versionID: "v1",
                                retention: ObjectRetention(mode: .compliance, retainUntil: 1_893_456_000_000),
                                bypassGovernance: false),
            .putObjectRetention(envelope, bucket: "locked", key: "k", versionID: nil, retention: nil,
                                bypassGovernance: true),
            .putObjectLegalHold(envelope, bucket: "locked", key: "k", versionID: nil, legalHold: true),
            .deleteVersions(envelope, bucket: "locked", targets: [
                DeleteTarget(key: "k", versionID: "v1", markerVersionID: ""),
            ], bypassGovernance: true),
        ]
        return commands.map { $0.encode() } + [
            MetaCommandResult.object(object).encode(), MetaCommandResult.failed(.noSuchBucket).encode(),
            MetaCommandResult.deletedVersions([DeleteOutcome(versionID: "null", isDeleteMarker: true, removedCurrent: true)])
                .encode(),
            MetaCommandResult.stored(versionID: "0123456789abcdef0123456789abcdef").encode(),
            MetaCommandResult.failed(.blobNodeRemoved(3)).encode(),
            MetaCommandResult.deletedVersions([
                DeleteOutcome(versionID: "v1", isDeleteMarker: false, removedCurrent: false,
                              refusal: .objectLocked("the object version is under legal hold")),
                DeleteOutcome(versionID: "v2", isDeleteMarker: false, removedCurrent: true),
            ]).encode(),
            MetaCommandResult.failed(.invalidBucketState("versioning")).encode(),
            MetaCommandResult.failed(.objectLockNotEnabled).encode(),
        ]
    }

    static func metaRPC() -> [[UInt8]] {
        let object = ObjectRecord(bucket: "bucket", key: "key", versionID: "v1", sizeBytes: 5, etag: "abc",
                                  lastModifiedTime: 1, headers: [], userMetadata: [], checksum: nil,
                                  chunks: [ChunkRef(id: ChunkID(1), sizeBytes: 5, nodes: [1, 2])], partSizes: [])
        let queries: [MetaQuery] = [
            .listUsers, .user(accessKeyID: "AK"), .bucket(name: "bucket"),
            .object(bucket: "bucket", key: "key", requester: "u:1"),
            .listObjects(ListObjectsQuery(bucket: "bucket", prefix: "p/", delimiter: "/", startAfter: "",
                                          maxKeys: 1000), requester: "u:1"),
            .listParts(bucket: "b", key: "k", uploadID: "u", requester: "r", partNumberMarker: 0, maxParts: 10),
            .referencedChunks([ChunkID(1), ChunkID(2)]), .usage(.bucket("bucket")), .appliedIndex,
            .objectAccess(bucket: "bucket", key: "key"),
            .objectVersion(bucket: "bucket", key: "key", versionID: "null", requester: "u:1"),
            .listVersions(ListVersionsQuery(bucket: "bucket", prefix: "p/", delimiter: "/", keyMarker: "p/a",
                                            versionIDMarker: "null", maxKeys: 1000), requester: "u:1"),
            .bucketVersioning(bucket: "bucket", requester: "u:1"),
            .bucketTagging(bucket: "bucket"),
            .bucketCORS(bucket: "bucket"),
            .objectLockConfiguration(bucket: "bucket"),
            .chunkPlacements(after: nil, limit: 200), .chunkPlacements(after: .afterObject(bucket: "b", key: "k"), limit: 1),
            .chunkPlacements(after: .afterPart(uploadID: "u", partNumber: 3), limit: 1000),
            .blobMap,
        ]
        let results: [MetaQueryResult] = [
            .object(object), .bucket(BucketRecord(name: "b", owner: "u:1", createdTime: 1)),
            .objects(ListObjectsPage(objects: [ObjectSummary(key: "k", sizeBytes: 1, etag: "e", lastModifiedTime: 1,
                                                             owner: "u:1")],
                                     commonPrefixes: ["p/"], isTruncated: true, nextMarker: "k")),
            .chunkIDs([ChunkID(3)]), .index(42), .failed(.noSuchKey), .text("a=1"), .text(nil),
            .objectAccess(BucketRecord(name: "b", owner: "u:1", createdTime: 1, ownership: .objectWriter,
                                       policy: "{}"), object),
            .objectAccess(BucketRecord(name: "b", owner: "u:1", createdTime: 1), nil),
            .objectVersion(ObjectVersion(object: object, isDeleteMarker: false, isLatest: true)),
            .versions(ListVersionsPage(
                versions: [VersionSummary(key: "k", versionID: "null", isLatest: true, isDeleteMarker: true, sizeBytes: 0,
                                          etag: "", lastModifiedTime: 1)],
                commonPrefixes: ["p/"], isTruncated: true, nextKeyMarker: "k", nextVersionIDMarker: "null", owner: "u:1")),
            .versioning(.enabled),
            .placements(ChunkPlacementPage(chunks: object.chunks, next: .afterPart(uploadID: "u", partNumber: 2))),
            .placements(ChunkPlacementPage(chunks: [], next: nil)),
            .blobMap(BlobMap(epoch: 7, nodes: [
                BlobNodeRecord(id: 1, address: "10.0.0.1:7300", zone: "rack-a", weight: 1, capacityBytes: 1 << 40,
                               state: .up, changedTime: 1),
                BlobNodeRecord(id: 2, address: "10.0.0.2:7300", zone: nil, weight: 3, capacityBytes: 0,
                               state: .draining, changedTime: 2),
            ])),
            .blobMap(BlobMap(epoch: 0, nodes: [])),
            .objectLock(nil), .objectLock(ObjectLockConfiguration()),
            .objectLock(ObjectLockConfiguration(defaultRetention: DefaultRetention(mode: .governance, period: .days(30)))),
        ]
        let status = MetaNodeStatus(id: 1, term: 2, role: "leader", leaderID: 1, commitIndex: 9, appliedIndex: 9,
                                    voters: [1, 2, 3], learners: [4])
        return queries.map { $0.encode() } + results.map { $0.encode() }
            + [MembershipRequest.addLearner(4, raftAddress: "127.0.0.1:7100").encode(), status.encode(),
               BlobHeartbeat(node: 1, capacityBytes: 1 << 40, freeBytes: 1 << 30, healthy: true).encode()]
    }

    static func blobHeader() -> [UInt8] {
        let payload: [UInt8] = Array("chunk bytes".utf8)
        let header = payload.withUnsafeBytes {
            RecordHeader(kind: .put, chunkID: 42, writeTimeMs: 1_796_083_200_000, payload: $0)
        }
        return header.encoded() + payload
    }

    /// Two streams of the chunk protocol: every request, as a server reads them, and every reply, as a client
    /// reads them.
    static func blobWireFrames() -> [[UInt8]] {
        let allocator = ByteBufferAllocator()
        let payload = ByteBuffer(string: "chunk bytes")
        let requests: [BlobRequest] = [
            .authenticate(authenticator: Array(repeating: 0xA5, count: Limits.wireAuthenticatorBytes)),
            .ping,
            .put(chunkID: 42, checksum: BlobWire.checksum(payload), bytes: payload),
            .get(chunkID: 42, offset: 6, length: 5),
            .delete(chunkIDs: [42, UInt128(1) << 100]),
            .chunks(writtenBeforeTime: FuzzIdentity.nowMilliseconds, after: 7, limit: 1000),
            .chunks(writtenBeforeTime: 0, after: nil, limit: 0),
            .stat,
        ]
        let replies: [BlobReply] = [
            .challenge(nonce: Array(repeating: 0x5A, count: Limits.wireNonceBytes)),
            .ok,
            .bytes(checksum: BlobWire.checksum(payload), bytes: payload),
            .chunkList([1, 42]),
            .status(BlobNodeStatus(nodeID: 1, freeBytes: 1 << 40, chunkCount: 2)),
            .failure(.chunkNotFound(42)),
            .failure(.unavailable("the chunk store is closed")),
            .failure(.chunkTooLarge(bytes: Limits.chunkSizeBytesMax + 1, max: Limits.chunkSizeBytesMax)),
        ]
        func stream(_ frames: [EncodedFrame]) -> [UInt8] {
            var buffer = allocator.buffer(capacity: 1024)
            for frame in frames {
                var whole = frame.joined
                buffer.writeBuffer(&whole)
            }
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        let requestFrames = requests.enumerated().map { BlobWire.encode($1, requestID: UInt64($0), allocator: allocator) }
        let replyFrames = replies.enumerated().map { BlobWire.encode($1, requestID: UInt64($0), allocator: allocator) }
        return [stream(requestFrames), stream(replyFrames)]
    }

    /// Writes every seed as `DIR/<target>/seed-<n>`.
    static func write(to directory: String) throws {
        for (name, inputs) in all().sorted(by: { $0.key < $1.key }) {
            let folder = URL(fileURLWithPath: directory).appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (index, input) in inputs.enumerated() {
                try Data(input).write(to: folder.appendingPathComponent("seed-\(index)"))
            }
        }
    }
}

/// A 3-field hard state, as the WAL stores it.
enum HardStateBytes {
    static var sample: [UInt8] {
        var bytes: [UInt8] = []
        HardState(term: 2, vote: 1, commit: 5).encode(into: &bytes)
        return bytes
    }
}

import NIOCore
enum ByteBufferAllocatorBox {
    static func make() -> ByteBuffer { ByteBufferAllocator().buffer(capacity: 1024) }
}
