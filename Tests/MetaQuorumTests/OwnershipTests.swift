import Foundation
import Testing

@testable import MetaQuorum

/// Goal: buckets belong to a user's immutable id: a user who owns buckets is deleted only with an heir,
/// a new user with an old name owns nothing, and a database from before ids (schema 1) is migrated so
/// that every old user keeps its buckets and usage is counted from the rows.
@Suite struct OwnershipTests {
    func user(_ name: String, id: String?) -> UserRecord {
        UserRecord(id: id, name: name, accessKeyID: "AK" + name.uppercased(), secretAccessKey: "secret-" + name,
                   isRoot: false, createdTime: testStartTime)
    }

    @Test func deletingAnOwnerNeedsAnHeirAndTheNameCarriesNothing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.createUser(envelope("1", ""), user: user("bob", id: "u:1")))
        try driver.apply(.createBucket(envelope("2", "u:1"), name: "photos"))
        #expect(try driver.apply(.deleteUser(envelope("3", ""), name: "bob", heir: nil)) == .failed(.userOwnsBuckets))
        try driver.apply(.deleteUser(envelope("4", ""), name: "bob", heir: "u:root"))
        #expect(try driver.machine.bucketRecord("photos")?.owner == "u:root")
        try driver.apply(.createUser(envelope("5", ""), user: user("bob", id: "u:2")))
        // Access is the Gateway's `Authorizer`'s decision, by the owner id the bucket keeps.
        #expect(try driver.machine.existingBucket("photos").owner != "u:2")
        #expect(try driver.machine.user(accessKeyID: "AKBOB")?.id == "u:2")
    }

    @Test func schemaOneDatabaseIsMigrated() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/meta.sqlite"
        do {
            let driver = try MachineDriver(path: path)
            try driver.apply(.createUser(envelope("1", ""), user: user("alice", id: nil)))
            try driver.apply(.createBucket(envelope("2", "alice"), name: "b1"))
            try driver.apply(.putObject(envelope("3", "alice"), object: objectRecord(bucket: "b1", key: "k", chunks: [chunk(1, 7)]),
                                        precondition: .none, startedTime: testStartTime))
            // Turn it back into a schema-1 database: user records without their id.
            var writer = ByteWriter(capacity: 64)
            let alice = user("alice", id: nil)
            writer.writeString(alice.name)
            writer.writeString(alice.accessKeyID)
            writer.writeString(alice.secretAccessKey)
            writer.writeBool(alice.isRoot)
            writer.writeInt(alice.createdTime)
            _ = try driver.machine.database.run("UPDATE users SET record = ?", [.bytes(writer.bytes)])
            // Object records of format 1: format 3 of an object without an inline body, owner or ACL is
            // format 1 plus three bytes (the absent inline body, owner and ACL); no access columns either.
            var legacy = try #require(try driver.machine.objectRecord(bucket: "b1", key: "k"))
            (legacy.owner, legacy.acl) = (nil, nil)
            let formatOne = RecordBlob.encode { $0.write(legacy) }.dropLast(3)
            _ = try driver.machine.database.run("UPDATE objects SET record = ?", [.bytes(Array(formatOne))])
            try downgradeToSchemaSix(driver.machine.database)
            for column in ["acl", "ownership", "policy"] {
                try driver.machine.database.execute("ALTER TABLE buckets DROP COLUMN \(column)")
            }
            try driver.machine.database.execute("ALTER TABLE objects DROP COLUMN owner")
            _ = try driver.machine.database.run("UPDATE meta SET value = 1 WHERE name = 'schema_version'")
            try downgradeToSchemaFour(driver.machine.database)
            try driver.machine.database.execute("DROP TABLE bucket_usage")
            try driver.machine.database.execute("DROP TABLE quotas")
            driver.machine.close()
        }
        let reopened = try MetaStateMachine(path: path)
        defer { reopened.close() }
        #expect(try reopened.metaValue("schema_version") == MetaSchema.version)
        let alice = try #require(try reopened.user(accessKeyID: "AKALICE"))
        #expect(alice.id == "alice")
        let bucket = try reopened.existingBucket("b1")
        #expect(bucket.owner == alice.id)
        #expect(bucket.acl == .ownerOnly(alice.id))
        let object = try #require(try reopened.objectRecord(bucket: "b1", key: "k"))
        #expect(object.owner == nil && object.acl == nil)
        // Schema 3's usage is recounted from the rows.
        #expect(try reopened.bucketUsage("b1") == (7, 1))
    }

    @Test func formatOneCommandsStillDecode() throws {
        var writer = ByteWriter(capacity: 64)
        writer.writeByte(1)  // format 1
        writer.writeByte(2)  // deleteUser
        writer.writeString("r")
        writer.writeString("")
        writer.writeInt(Int64(5))
        writer.writeString("bob")
        #expect(try MetaCommand(decoding: writer.bytes) == .deleteUser(envelope("r", "", time: 5), name: "bob", heir: nil))
    }
}
