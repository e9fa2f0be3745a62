import Foundation
import Testing

@testable import MetaQuorum

/// Goal: `bucket_usage` always equals what the rows say (object versions plus open parts), and quotas refuse
/// exactly the growth past them, decided at apply time.
/// Method: random plausible command logs checked against a recount after every batch; then each quota
/// path (bucket bytes, bucket objects, user bytes over two buckets, multipart parts, lowering a quota).
@Suite struct QuotaTests {
    func recount(_ machine: MetaStateMachine) throws -> [String: [Int64]] {
        var expected: [String: [Int64]] = [:]
        for (bucket, bytes, objects) in try machine.database.rows(
            """
            SELECT bucket, SUM(size_bytes), COUNT(*) FROM (SELECT bucket, size_bytes FROM objects
                UNION ALL SELECT bucket, size_bytes FROM versions WHERE is_delete_marker = 0) GROUP BY bucket
            """, [], { ($0.string(0), $0.int64(1), $0.int64(2)) })
        {
            expected[bucket] = [bytes, objects]
        }
        for (bucket, bytes) in try machine.database.rows(
            "SELECT uploads.bucket, SUM(parts.size_bytes) FROM parts JOIN uploads USING (upload_id) GROUP BY uploads.bucket",
            [], { ($0.string(0), $0.int64(1)) })
        {
            expected[bucket, default: [0, 0]][0] += bytes
        }
        return expected.filter { $0.value != [0, 0] }
    }

    func stored(_ machine: MetaStateMachine) throws -> [String: [Int64]] {
        var found: [String: [Int64]] = [:]
        for (bucket, bytes, objects) in try machine.database.rows(
            "SELECT bucket, bytes, objects FROM bucket_usage", [], { ($0.string(0), $0.int64(1), $0.int64(2)) })
        {
            found[bucket] = [bytes, objects]
        }
        return found.filter { $0.value != [0, 0] }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func usageMatchesTheRows(seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        let log = plausibleCommandLog(seed: seed, count: 400)
        var start = 0
        while start < log.count {
            let end = min(log.count, start + 7)
            _ = try driver.applyBatch(Array(log[start..<end]))
            #expect(try stored(driver.machine) == recount(driver.machine), "after command \(end)")
            start = end
        }
    }

    @Test func quotasRefuseOnlyGrowthPastThem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.createUser(envelope("u", ""), user: UserRecord(
            id: "alice", name: "alice", accessKeyID: "AKA", secretAccessKey: "secret-a", isRoot: false,
            createdTime: testStartTime)))
        try driver.apply(.createBucket(envelope("b1"), name: "b1"))
        try driver.apply(.createBucket(envelope("b2"), name: "b2"))
        func put(_ id: String, _ bucket: String, _ key: String, _ size: Int64, chunk chunkID: ChunkID) throws
            -> MetaCommandResult
        {
            try driver.apply(.putObject(envelope(id), object: objectRecord(bucket: bucket, key: key, chunks: size > 0 ? [chunk(chunkID, size)] : []),
                                        precondition: .none, startedTime: testStartTime))
        }
        try driver.apply(.setQuota(envelope("q1", ""), target: .bucket("b1"), quota: Quota(bytesMax: 100, objectsMax: 2)))
        #expect(try put("p1", "b1", "a", 60, chunk: 1) == .stored(versionID: nil))
        #expect(try put("p2", "b1", "b", 50, chunk: 2) == .failed(.quotaExceeded("bucket b1 is limited to 100 bytes")))
        #expect(try put("p3", "b1", "b", 40, chunk: 3) == .stored(versionID: nil))
        #expect(try put("p4", "b1", "c", 0, chunk: 4) == .failed(.quotaExceeded("bucket b1 is limited to 2 objects")))
        // Replacing a key with a smaller version shrinks usage and is always allowed.
        #expect(try put("p5", "b1", "a", 10, chunk: 5) == .stored(versionID: nil))
        #expect(try driver.machine.bucketUsage("b1") == (50, 2))

        // A user quota counts every bucket of the user; parts of open uploads count too.
        try driver.apply(.setQuota(envelope("q2", ""), target: .user("alice"), quota: Quota(bytesMax: 120)))
        try driver.apply(.createMultipartUpload(envelope("m1"), upload: uploadRecord(bucket: "b2", key: "big", uploadID: "up")))
        #expect(try driver.apply(.putPart(envelope("m2"), bucket: "b2", key: "big", uploadID: "up",
                                          part: partRecord(1, sizeBytes: 60, chunkID: 6), startedTime: testStartTime)) == .done)
        #expect(try driver.apply(.putPart(envelope("m3"), bucket: "b2", key: "big", uploadID: "up",
                                          part: partRecord(2, sizeBytes: 20, chunkID: 7), startedTime: testStartTime))
                == .failed(.quotaExceeded("the bucket's owner is limited to 120 bytes")))
        #expect(try driver.machine.usageReport(.user("alice")) == UsageReport(bytes: 110, objects: 2, quota: Quota(bytesMax: 120)))
        // Completing moves the part's bytes into the object: no growth, so it passes at the limit.
        if case .object = try driver.apply(.completeMultipartUpload(
            envelope("m4"), bucket: "b2", key: "big", uploadID: "up", parts: [CompletedPart(partNumber: 1, etag: md5Hex(1))],
            precondition: .none, minimumPartSizeBytes: 0, versionID: "v"))
        {} else { Issue.record("complete at the quota was refused") }
        #expect(try driver.machine.usageReport(.user("alice")).bytes == 110)

        // Lowering a quota below the usage keeps the data and refuses only growth; removing it frees writes.
        try driver.apply(.setQuota(envelope("q3", ""), target: .user("alice"), quota: Quota(bytesMax: 10)))
        #expect(try put("p6", "b2", "x", 1, chunk: 8) == .failed(.quotaExceeded("the bucket's owner is limited to 10 bytes")))
        try driver.apply(.deleteObjects(envelope("d1"), bucket: "b2", keys: ["big"]))
        try driver.apply(.setQuota(envelope("q4", ""), target: .user("alice"), quota: Quota()))
        #expect(try put("p7", "b2", "x", 1, chunk: 9) == .stored(versionID: nil))
        #expect(try driver.apply(.setQuota(envelope("q5", ""), target: .bucket("nope"), quota: Quota(bytesMax: 1)))
                == .failed(.noSuchBucket))
    }
}
