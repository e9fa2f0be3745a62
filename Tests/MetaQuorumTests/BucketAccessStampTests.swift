import Testing

@testable import MetaQuorum

/// Goal: a write authorized against a bucket record the Gateway may have cached takes effect only when
/// the bucket's access settings at apply time are the ones the decision read. The stamp is a fixed function
/// of the record (every replica and process computes the same), changes with each access field, travels in
/// the command envelope (format 4; older formats decode without one), and a stale one refuses the write
/// without the refusal being remembered, so the same request id can be proposed again with a fresh stamp.
@Suite struct BucketAccessStampTests {
    let alice = "u:alice"

    @Test func stampChangesWithEveryAccessField() {
        let base = BucketRecord(name: "b", owner: alice, createdTime: 1)
        var variants = [base]
        var renamed = base; renamed.name = "c"; variants.append(renamed)
        var owned = base; owned.owner = "u:bob"; variants.append(owned)
        var recreated = base; recreated.createdTime = 2; variants.append(recreated)
        var shared = base
        shared.acl = AccessControlList(grants: base.acl.grants + [ACLGrant(grantee: .allUsers, permission: .read)])
        variants.append(shared)
        var enforced = base; enforced.ownership = .bucketOwnerEnforced; variants.append(enforced)
        var preferred = base; preferred.ownership = .bucketOwnerPreferred; variants.append(preferred)
        var withPolicy = base; withPolicy.policy = "{}"; variants.append(withPolicy)
        var otherPolicy = base; otherPolicy.policy = "{ }"; variants.append(otherPolicy)
        #expect(Set(variants.map(\.accessStamp)).count == variants.count)
        #expect(BucketRecord(name: "b", owner: alice, createdTime: 1).accessStamp == base.accessStamp)
    }

    @Test func stampTravelsInTheEnvelope() throws {
        var stamped = envelope("r1")
        stamped.bucketAccess = BucketAccessStamp(value: 0xFEDC_BA98_7654_3210)
        let command = MetaCommand.abortMultipartUpload(stamped, bucket: "b", key: "k", uploadID: "u")
        let decoded = try MetaCommand(decoding: command.encode())
        #expect(decoded == command)
        #expect(decoded.envelope.bucketAccess?.value == 0xFEDC_BA98_7654_3210)
        #expect(decoded.accessCheckedBucket == "b")
        // Format 3 had no stamp: its bytes (no flag after the time) decode without one.
        var writer = ByteWriter(capacity: 64)
        writer.writeByte(3)
        writer.writeByte(command.kind)
        writer.writeString("r1")
        writer.writeString("alice")
        writer.writeInt(testStartTime)
        for field in ["b", "k", "u"] { writer.writeString(field) }
        let old = try MetaCommand(decoding: writer.bytes)
        #expect(old.envelope.bucketAccess == nil)
        #expect(old == .abortMultipartUpload(envelope("r1"), bucket: "b", key: "k", uploadID: "u"))
    }

    @Test func staleStampRefusesWithoutBeingRemembered() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.createBucket(envelope("c1", alice), name: "b", acl: nil, ownership: nil))
        let before = try driver.machine.existingBucket("b").accessStamp

        func put(_ commandID: String, key: String, stamp: BucketAccessStamp?) throws -> MetaCommandResult {
            var stamped = envelope(commandID, alice)
            stamped.bucketAccess = stamp
            return try driver.apply(.putObject(stamped, object: objectRecord(bucket: "b", key: key),
                                               precondition: .none, startedTime: testStartTime))
        }
        #expect(try put("p1", key: "one", stamp: before) == .stored(versionID: nil))

        // The owner attaches a policy: every decision made on the earlier record is stale.
        try driver.apply(.setBucketPolicy(envelope("c2", alice), bucket: "b", policy: #"{"Version":"2012-10-17"}"#))
        let after = try driver.machine.existingBucket("b").accessStamp
        #expect(after != before)
        #expect(try put("p2", key: "two", stamp: before) == .failed(.bucketAccessChanged))
        #expect(try driver.machine.objectRecord(bucket: "b", key: "two") == nil)
        // Decided again, the same request id goes through: the refusal was not remembered.
        #expect(try put("p2", key: "two", stamp: after) == .stored(versionID: nil))
        #expect(try driver.machine.objectRecord(bucket: "b", key: "two") != nil)
        // A retry of the write that did take effect finds its first outcome, whatever stamp it carries.
        #expect(try put("p2", key: "two", stamp: before) == .stored(versionID: nil))

        // A bucket that is gone answers as the write itself would.
        #expect(try put("p3", key: "three", stamp: BucketAccessStamp(value: 1)) == .failed(.bucketAccessChanged))
        var onMissing = envelope("p4", alice)
        onMissing.bucketAccess = after
        #expect(try driver.apply(.abortMultipartUpload(onMissing, bucket: "nope", key: "k", uploadID: "u"))
            == .failed(.noSuchBucket))
        // A stamp on a command that cannot carry one is a fault, the same on every replica.
        var misplaced = envelope("p5", alice)
        misplaced.bucketAccess = after
        guard case .failed(.internalFault) = try driver.apply(.setBucketVersioning(misplaced, bucket: "b", state: .enabled))
        else {
            Issue.record("a stamp on setBucketVersioning was not refused")
            return
        }
    }

    // Goal: two concurrent changes of a bucket's access settings, each decided on the same read, cannot both
    // land: a public ACL decided before a public access block applied is refused after it (and decided
    // again, the client would get AccessDenied), while the block itself goes through. Method: stamp both on
    // one record, apply the block, then the ACL; then the other order.
    @Test func accessSettingChangesAreStampedAgainstEachOther() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.createBucket(envelope("c1", alice), name: "b", acl: nil, ownership: nil))
        let read = try driver.machine.existingBucket("b").accessStamp
        func stamped(_ commandID: String, _ stamp: BucketAccessStamp) -> CommandEnvelope {
            var envelope = envelope(commandID, alice)
            envelope.bucketAccess = stamp
            return envelope
        }
        let publicACL = AccessControlList(grants: AccessControlList.ownerOnly(alice).grants
            + [ACLGrant(grantee: .allUsers, permission: .read)])
        let block = PublicAccessBlock(blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true,
                                      restrictPublicBuckets: false)
        #expect(try driver.apply(.setPublicAccessBlock(stamped("pab", read), bucket: "b", block: block)) == .done)
        #expect(try driver.apply(.putBucketACL(stamped("acl", read), bucket: "b", acl: publicACL))
            == .failed(.bucketAccessChanged))
        #expect(try driver.machine.existingBucket("b").acl == .ownerOnly(alice))
        // The policy and ownership changes are held to the same rule.
        #expect(try driver.apply(.setBucketPolicy(stamped("pol", read), bucket: "b", policy: "{}"))
            == .failed(.bucketAccessChanged))
        #expect(try driver.apply(.setOwnershipControls(stamped("own", read), bucket: "b", ownership: .bucketOwnerEnforced))
            == .failed(.bucketAccessChanged))
        // The other order: an ACL decided and applied first makes the block decided on the older read stale.
        let now = try driver.machine.existingBucket("b").accessStamp
        #expect(try driver.apply(.setPublicAccessBlock(stamped("pab2", now), bucket: "b", block: nil)) == .done)
        let cleared = try driver.machine.existingBucket("b").accessStamp
        #expect(try driver.apply(.putBucketACL(stamped("acl2", cleared), bucket: "b", acl: publicACL)) == .done)
        #expect(try driver.apply(.setPublicAccessBlock(stamped("pab3", cleared), bucket: "b", block: block))
            == .failed(.bucketAccessChanged))
        #expect(try driver.machine.existingBucket("b").publicAccessBlock == nil)
    }
}
