import Testing

@testable import MetaQuorum

/// Goal: access control as replicated metadata. The ACL model answers grants as S3 defines them; owners
/// and ACLs of written objects are decided at apply time from the writer and the bucket's ownership
/// controls; the access commands change exactly what they name and refuse what S3 refuses; records and
/// commands from before ACLs (formats 1 and 2) read as private to the bucket owner; the new read
/// (`objectAccess`) and the bucket's access fields survive the query codec.
@Suite struct AccessControlTests {
    let alice = "u:alice"
    let bob = "u:bob"

    // MARK: The pure model

    @Test func grantsFollowPermissionsAndGrantees() {
        let acl = AccessControlList(grants: [
            ACLGrant(grantee: .user(id: alice), permission: .fullControl),
            ACLGrant(grantee: .allUsers, permission: .read),
            ACLGrant(grantee: .authenticatedUsers, permission: .readACP),
            ACLGrant(grantee: .user(id: bob), permission: .write),
        ])
        for permission in ACLPermission.allCases { #expect(acl.grants(permission, to: .user(id: alice))) }
        #expect(acl.grants(.read, to: .anonymous))
        #expect(!acl.grants(.write, to: .anonymous))
        #expect(!acl.grants(.readACP, to: .anonymous))
        #expect(acl.grants(.readACP, to: .user(id: "u:carol")))
        #expect(acl.grants(.write, to: .user(id: bob)))
        #expect(!acl.grants(.writeACP, to: .user(id: bob)))
        #expect(!AccessControlList(grants: []).grants(.read, to: .user(id: alice)))
        #expect(ACLPermission.fullControl.implies(.writeACP))
        #expect(!ACLPermission.write.implies(.read))
    }

    @Test func ownershipRuleTable() {
        let publicRead = AccessControlList(grants: [
            ACLGrant(grantee: .user(id: bob), permission: .fullControl), ACLGrant(grantee: .allUsers, permission: .read),
        ])
        let bucketOwnerFull = AccessControlList(grants: [
            ACLGrant(grantee: .user(id: bob), permission: .fullControl),
            ACLGrant(grantee: .user(id: alice), permission: .fullControl),
        ])
        func bucket(_ ownership: ObjectOwnership?) -> BucketRecord {
            BucketRecord(name: "b", owner: alice, createdTime: 1, ownership: ownership)
        }
        let rows: [(ObjectOwnership?, String, AccessControlList?, String, AccessControlList)] = [
            (nil, bob, publicRead, bob, publicRead),
            (.objectWriter, bob, bucketOwnerFull, bob, bucketOwnerFull),
            (.bucketOwnerPreferred, bob, publicRead, bob, publicRead),
            (.bucketOwnerPreferred, bob, bucketOwnerFull, alice, .ownerOnly(alice)),
            (.bucketOwnerEnforced, bob, publicRead, alice, .ownerOnly(alice)),
            // An anonymous writer (empty id) owns nothing.
            (nil, "", nil, alice, .ownerOnly(alice)),
            (nil, bob, nil, bob, .ownerOnly(bob)),
        ]
        for (ownership, writer, requested, owner, acl) in rows {
            let decided = ObjectOwnershipRule.decide(writer: writer, requested: requested, bucket: bucket(ownership))
            #expect(decided.owner == owner, "\(String(describing: ownership)) \(writer)")
            #expect(decided.acl == acl, "\(String(describing: ownership)) \(writer)")
        }
    }

    // MARK: The state machine

    @Test func bucketACLAndOwnershipControls() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        let shared = AccessControlList(grants: [
            ACLGrant(grantee: .user(id: alice), permission: .fullControl), ACLGrant(grantee: .user(id: bob), permission: .read),
        ])
        try driver.apply(.createBucket(envelope("1", alice), name: "b", acl: shared, ownership: nil))
        try driver.apply(.createBucket(envelope("2", alice), name: "plain"))
        #expect(try driver.machine.existingBucket("b").acl == shared)
        #expect(try driver.machine.existingBucket("plain").acl == .ownerOnly(alice))
        #expect(try driver.machine.existingBucket("plain").ownership == nil)

        let open = AccessControlList(grants: shared.grants + [ACLGrant(grantee: .allUsers, permission: .write)])
        #expect(try driver.apply(.putBucketACL(envelope("3", alice), bucket: "b", acl: open)) == .done)
        #expect(try driver.machine.existingBucket("b").acl == open)
        #expect(try driver.apply(.putBucketACL(envelope("4", alice), bucket: "none", acl: open)) == .failed(.noSuchBucket))

        // Enforced: the ACL resets to owner-only and ACL changes are refused at apply time.
        try driver.apply(.setOwnershipControls(envelope("5", alice), bucket: "b", ownership: .bucketOwnerEnforced))
        let enforced = try driver.machine.existingBucket("b")
        #expect(enforced.ownership == .bucketOwnerEnforced)
        #expect(enforced.acl == .ownerOnly(alice))
        #expect(try driver.apply(.putBucketACL(envelope("6", alice), bucket: "b", acl: open)) == .failed(.aclNotSupported))
        try driver.apply(.setOwnershipControls(envelope("7", alice), bucket: "b", ownership: nil))
        #expect(try driver.machine.existingBucket("b").ownership == nil)
        #expect(try driver.apply(.setOwnershipControls(envelope("8", alice), bucket: "b", ownership: nil))
            == .failed(.ownershipControlsNotFound))
        // Created enforced, an ACL asked for is not stored.
        try driver.apply(.createBucket(envelope("9", alice), name: "e", acl: open, ownership: .bucketOwnerEnforced))
        #expect(try driver.machine.existingBucket("e").acl == .ownerOnly(alice))
    }

    @Test func objectOwnersAndACLsAreDecidedAtApply() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.createBucket(envelope("1", alice), name: "b"))
        var proposed = objectRecord(bucket: "b", key: "by-bob")
        proposed.acl = AccessControlList(grants: [
            ACLGrant(grantee: .user(id: bob), permission: .fullControl), ACLGrant(grantee: .allUsers, permission: .read),
        ])
        proposed.owner = "u:forged"  // the proposer's owner is not trusted: the writer is the envelope's
        try driver.apply(.putObject(envelope("2", bob), object: proposed, precondition: .none, startedTime: testStartTime))
        let stored = try #require(try driver.machine.objectRecord(bucket: "b", key: "by-bob"))
        #expect(stored.owner == bob)
        #expect(stored.acl == proposed.acl)
        // Listings name the object's owner, not the bucket's.
        let listed = try driver.machine.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "", delimiter: "", startAfter: "", maxKeys: 10), requester: alice)
        #expect(listed.objects.map(\.owner) == [bob])

        // PutObjectAcl replaces the ACL and keeps the owner.
        try driver.apply(.putObjectACL(envelope("3", bob), bucket: "b", key: "by-bob", acl: .ownerOnly(bob)))
        let replaced = try #require(try driver.machine.objectRecord(bucket: "b", key: "by-bob"))
        #expect(replaced.owner == bob && replaced.acl == .ownerOnly(bob))
        #expect(try driver.apply(.putObjectACL(envelope("4", bob), bucket: "b", key: "none", acl: .ownerOnly(bob)))
            == .failed(.noSuchKey))

        // Enforced between the gateway's read and the apply: the bucket owner owns what bob writes next.
        try driver.apply(.setOwnershipControls(envelope("5", alice), bucket: "b", ownership: .bucketOwnerEnforced))
        try driver.apply(.putObject(envelope("6", bob), object: proposed, precondition: .none, startedTime: testStartTime))
        let enforced = try #require(try driver.machine.objectRecord(bucket: "b", key: "by-bob"))
        #expect(enforced.owner == alice && enforced.acl == .ownerOnly(alice))
        #expect(try driver.apply(.putObjectACL(envelope("7", alice), bucket: "b", key: "by-bob", acl: .ownerOnly(alice)))
            == .failed(.aclNotSupported))

        // A multipart upload's ACL reaches the completed object; its initiator owns it.
        try driver.apply(.setOwnershipControls(envelope("8", alice), bucket: "b", ownership: .objectWriter))
        var upload = uploadRecord(bucket: "b", key: "mp", uploadID: "u1")
        upload.initiator = bob
        upload.acl = proposed.acl
        try driver.apply(.createMultipartUpload(envelope("9", bob), upload: upload))
        try driver.apply(.putPart(envelope("10", bob), bucket: "b", key: "mp", uploadID: "u1",
                                  part: partRecord(1, sizeBytes: 3, chunkID: 7), startedTime: testStartTime))
        let completed = try driver.apply(.completeMultipartUpload(
            envelope("11", bob), bucket: "b", key: "mp", uploadID: "u1",
            parts: [CompletedPart(partNumber: 1, etag: md5Hex(1))], precondition: .none, minimumPartSizeBytes: 0,
            versionID: "v"))
        guard case .object(let object) = completed else { Issue.record("complete: \(completed)"); return }
        #expect(object.owner == bob && object.acl == proposed.acl)
    }

    @Test func anHeirTakesTheDeletedUsersPlaceInACLs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        let user = UserRecord(id: bob, name: "bob", accessKeyID: "AKBOB", secretAccessKey: "s", isRoot: false,
                              createdTime: 1)
        try driver.apply(.createUser(envelope("1", ""), user: user))
        let grants = AccessControlList(grants: [
            ACLGrant(grantee: .user(id: bob), permission: .fullControl), ACLGrant(grantee: .allUsers, permission: .read),
        ])
        try driver.apply(.createBucket(envelope("2", bob), name: "b", acl: grants, ownership: nil))
        try driver.apply(.putObject(envelope("3", bob), object: objectRecord(bucket: "b", key: "mine"),
                                    precondition: .none, startedTime: testStartTime))
        try driver.apply(.putObject(envelope("4", alice), object: objectRecord(bucket: "b", key: "alices"),
                                    precondition: .none, startedTime: testStartTime))
        try driver.apply(.deleteUser(envelope("5", ""), name: "bob", heir: "u:root"))
        let bucket = try driver.machine.existingBucket("b")
        #expect(bucket.owner == "u:root")
        #expect(bucket.acl.grants == [ACLGrant(grantee: .user(id: "u:root"), permission: .fullControl),
                                      ACLGrant(grantee: .allUsers, permission: .read)])
        let mine = try #require(try driver.machine.objectRecord(bucket: "b", key: "mine"))
        #expect(mine.owner == "u:root" && mine.acl == .ownerOnly("u:root"))
        // Another writer's object stays its writer's.
        let alices = try #require(try driver.machine.objectRecord(bucket: "b", key: "alices"))
        #expect(alices.owner == alice && alices.acl == .ownerOnly(alice))
    }

    @Test func bucketPolicyIsStoredAndDeleted() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.createBucket(envelope("1", alice), name: "b"))
        #expect(try driver.apply(.setBucketPolicy(envelope("2", alice), bucket: "b", policy: nil)) == .failed(.noSuchBucketPolicy))
        try driver.apply(.setBucketPolicy(envelope("3", alice), bucket: "b", policy: "{\"Statement\":[]}"))
        #expect(try driver.machine.existingBucket("b").policy == "{\"Statement\":[]}")
        try driver.apply(.setBucketPolicy(envelope("4", alice), bucket: "b", policy: nil))
        #expect(try driver.machine.existingBucket("b").policy == nil)
        #expect(try driver.apply(.setBucketPolicy(envelope("5", alice), bucket: "x", policy: "{}")) == .failed(.noSuchBucket))
    }

    // MARK: Old formats

    @Test func formatTwoRecordsAndCommandsReadAsPrivate() throws {
        // A format-2 object record is format 3 without its two trailing absent fields.
        var object = objectRecord(bucket: "b", key: "k", chunks: [chunk(1, 3)])
        let formatThree = RecordBlob.encode { $0.write(object) }
        #expect(Array(formatThree.suffix(2)) == [0, 0])
        let decoded = try RecordBlob.decode(Array(formatThree.dropLast(2))) { reader throws(MetaCodecError) in
            try reader.readObject(format: 2)
        }
        #expect(decoded == object)
        #expect(decoded.owner == nil && decoded.acl == nil)
        let bucket = BucketRecord(name: "b", owner: alice, createdTime: 1)
        // The Authorizer reads a missing owner and ACL as the bucket owner's alone.
        #expect((decoded.owner ?? bucket.owner) == alice)
        #expect((decoded.acl ?? .ownerOnly(decoded.owner ?? bucket.owner)) == .ownerOnly(alice))

        // A format-2 createBucket command: no ACL, no ownership controls.
        var writer = ByteWriter(capacity: 32)
        writer.writeByte(2)
        writer.writeByte(3)
        writer.writeString("r")
        writer.writeString(alice)
        writer.writeInt(Int64(5))
        writer.writeString("b")
        #expect(try MetaCommand(decoding: writer.bytes)
            == .createBucket(envelope("r", alice, time: 5), name: "b", acl: nil, ownership: nil))
        // Format 2 has no access-control commands.
        object.owner = alice
        let acl = MetaCommand.putBucketACL(envelope("r", alice), bucket: "b", acl: .ownerOnly(alice)).encoded(asFormat: 2)
        #expect(throws: MetaCodecError.self) { try MetaCommand(decoding: acl) }
    }

    // MARK: Queries

    @Test func accessQueriesRoundTrip() throws {
        let bucket = BucketRecord(
            name: "b", owner: alice, createdTime: 7,
            acl: AccessControlList(grants: [ACLGrant(grantee: .authenticatedUsers, permission: .read)]),
            ownership: .bucketOwnerPreferred, policy: "{\"Version\":\"2012-10-17\"}")
        var object = objectRecord(bucket: "b", key: "k")
        object.owner = bob
        object.acl = .ownerOnly(bob)
        let queries: [MetaQuery] = [.objectAccess(bucket: "b", key: "k"), .bucket(name: "b")]
        for query in queries { #expect(try MetaQuery(decoding: query.encode()) == query) }
        let results: [MetaQueryResult] = [
            .objectAccess(bucket, object), .objectAccess(bucket, nil), .bucket(bucket), .buckets([bucket, bucket]),
        ]
        for result in results { #expect(try MetaQueryResult(decoding: result.encode()) == result) }
        // Every proper prefix is refused.
        for result in results {
            let bytes = result.encode()
            for length in 0..<bytes.count {
                #expect(throws: MetaCodecError.self) { try MetaQueryResult(decoding: Array(bytes.prefix(length))) }
            }
        }
        // A result-format-1 bucket (from a node before ACLs) reads with the defaults.
        var writer = ByteWriter(capacity: 32)
        writer.writeByte(1)
        writer.writeByte(4)
        writer.writeBool(true)
        writer.writeString("b")
        writer.writeString(alice)
        writer.writeInt(Int64(7))
        #expect(try MetaQueryResult(decoding: writer.bytes) == .bucket(BucketRecord(name: "b", owner: alice, createdTime: 7)))
    }

    @Test func objectAccessReadsBucketAndObjectTogether() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let service = try await makeService(directory, clock: TestClock(testStartTime))
        let ids = CommandIDs()
        await #expect(throws: MetaError.noSuchBucket) { try await service.objectAccess(bucket: "b", key: "k") }
        try await service.createBucket(name: "b", owner: alice, time: testStartTime, commandID: ids.make())
        let empty = try await service.objectAccess(bucket: "b", key: "k")
        #expect(empty.bucket.owner == alice && empty.object == nil)
        try await service.putObject(objectRecord(bucket: "b", key: "k"), requester: bob, precondition: .none,
                                    startedTime: testStartTime, commandID: ids.make())
        try await service.putBucketACL(bucket: "b", acl: .ownerOnly(bob), requester: alice, access: nil, commandID: ids.make())
        let both = try await service.objectAccess(bucket: "b", key: "k")
        #expect(both.bucket.acl == .ownerOnly(bob))
        #expect(both.object?.owner == bob)
        await service.close()
    }
}
