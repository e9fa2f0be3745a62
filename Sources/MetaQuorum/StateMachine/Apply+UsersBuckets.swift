import MetaContract

extension MetaStateMachine {
    func applyCreateUser(_ user: UserRecord, envelope: CommandEnvelope) throws {
        guard !user.name.isEmpty, !user.accessKeyID.isEmpty else {
            throw MetaError.invalidArgument("a user needs a name and an access key id")
        }
        let taken = try database.firstRow(
            "SELECT 1 FROM users WHERE name = ? OR access_key_id = ?",
            [.string(user.name), .string(user.accessKeyID)]
        ) { _ in true }
        if taken == true { throw MetaError.userAlreadyExists }
        try database.run(
            "INSERT INTO users(name, access_key_id, record) VALUES (?, ?, ?)",
            [.string(user.name), .string(user.accessKeyID), .bytes(RecordBlob.encode { $0.write(user) })])
    }

    /// Deletes the user; its buckets go to `heir`, and without an heir a user who owns buckets stays.
    func applyDeleteUser(name: String, heir: String?) throws {
        let blob = try database.firstRow("SELECT record FROM users WHERE name = ?", [.string(name)]) { $0.bytes(0) }
        guard let blob else { throw MetaError.noSuchUser }
        let user = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in
            try reader.readUser(format: MetaSchema.userRecordFormat)
        }
        let ownsBuckets = try database.firstRow(
            "SELECT 1 FROM buckets INDEXED BY buckets_by_owner WHERE owner = ? LIMIT 1", [.string(user.id)]
        ) { _ in true } ?? false
        if ownsBuckets {
            guard let heir, !heir.isEmpty else { throw MetaError.userOwnsBuckets }
            if heir != user.id {
                try passAccess(from: user.id, to: heir)
                try database.run("UPDATE buckets SET owner = ? WHERE owner = ?", [.string(heir), .string(user.id)])
            }
        }
        try database.run("DELETE FROM users WHERE name = ?", [.string(name)])
        if heir != user.id {
            try database.run("DELETE FROM quotas WHERE scope = ?", [.string(Self.quotaScope(userID: user.id))])
        }
    }

    /// `acl` nil: the owner-only ACL; `ownership` nil: no ownership controls. Under `BucketOwnerEnforced`
    /// the bucket's ACL is the owner-only one whatever was asked (the Gateway refuses other ACLs first).
    /// The heir of a deleted user takes its place in the buckets it inherits: in their ACLs, and as owner
    /// and grantee of the objects in them the user owned or was granted. One pass over those buckets'
    /// objects, inside the deleting command.
    private func passAccess(from old: String, to heir: String) throws {
        func pass(_ acl: AccessControlList) -> AccessControlList {
            AccessControlList(grants: acl.grants.map { grant in
                grant.grantee == .user(id: old) ? ACLGrant(grantee: .user(id: heir), permission: grant.permission) : grant
            })
        }
        let names = try database.rows(
            "SELECT name FROM buckets INDEXED BY buckets_by_owner WHERE owner = ? ORDER BY name", [.string(old)]
        ) { $0.string(0) }
        for name in names {
            let bucket = try existingBucket(name)
            try database.run("UPDATE buckets SET acl = ? WHERE name = ?", [Self.aclColumn(pass(bucket.acl)), .string(name)])
            let rows = try database.rows("SELECT key, record FROM objects WHERE bucket = ? ORDER BY key", [.string(name)]) {
                ($0.bytes(0), $0.bytes(1))
            }
            for (key, blob) in rows {
                var object = try RecordBlob.decode(blob) { reader throws(MetaCodecError) in
                    try reader.readObject(format: RecordFormat.object)
                }
                guard object.owner == old || object.acl?.grants.contains(where: { $0.grantee == .user(id: old) }) == true
                else { continue }
                if object.owner == old { object.owner = heir }
                object.acl = object.acl.map(pass)
                try database.run("UPDATE objects SET record = ?, owner = ? WHERE bucket = ? AND key = ?",
                                 [.bytes(RecordBlob.encode { $0.write(object) }), object.owner.map { .string($0) } ?? .null,
                                  .string(name), .bytes(key)])
            }
        }
    }

    func applyCreateBucket(name: String, acl: AccessControlList?, ownership: ObjectOwnership?,
                           envelope: CommandEnvelope) throws {
        guard !name.isEmpty else { throw MetaError.invalidArgument("empty bucket name") }
        if let existing = try bucketRecord(name) {
            throw existing.owner == envelope.requester
                ? MetaError.bucketAlreadyOwnedByYou : MetaError.bucketAlreadyExists
        }
        let stored = ownership == .bucketOwnerEnforced ? nil : acl
        try database.run(
            "INSERT INTO buckets(name, owner, created_time, acl, ownership) VALUES (?, ?, ?, ?, ?)",
            [.string(name), .string(envelope.requester), .int(envelope.time), Self.aclColumn(stored),
             ownership.map { .int(Int64($0.tag)) } ?? .null])
    }

    static func aclColumn(_ acl: AccessControlList?) -> SQLiteValue {
        guard let acl else { return .null }
        return .bytes(RecordBlob.encode { $0.write(acl) })
    }

    /// Refuses a bucket that still holds an object. Its in-progress uploads refuse it too, unless
    /// `abortingUploads`: then each is aborted here, in this command's transaction, and its parts' chunks
    /// enter the garbage queue.
    func applyDeleteBucket(name: String, abortingUploads: Bool, envelope: CommandEnvelope) throws {
        _ = try existingBucket(name)
        let hasObject = try database.firstRow("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", [.string(name)]) { _ in
            true
        }
        if hasObject == true { throw MetaError.bucketNotEmpty }
        // Noncurrent versions and delete markers keep a bucket non-empty too, as in S3.
        let hasVersion = try database.firstRow("SELECT 1 FROM versions WHERE bucket = ? LIMIT 1", [.string(name)]) { _ in
            true
        }
        if hasVersion == true { throw MetaError.bucketNotEmpty }
        let uploadIDs = try database.rows(
            "SELECT upload_id FROM uploads INDEXED BY uploads_by_key WHERE bucket = ? ORDER BY key, initiated_time, upload_id",
            [.string(name)]
        ) { $0.string(0) }
        if !uploadIDs.isEmpty && !abortingUploads { throw MetaError.bucketNotEmpty }
        for uploadID in uploadIDs {
            try removeUpload(uploadID, bucket: name, parts: try partRecords(uploadID: uploadID), time: envelope.time)
        }
        try database.run("DELETE FROM buckets WHERE name = ?", [.string(name)])
        let usage = try bucketUsage(name)
        precondition(usage == (0, 0), "an empty bucket \(name) still counts \(usage)")
        try database.run("DELETE FROM bucket_usage WHERE bucket = ?", [.string(name)])
        try database.run("DELETE FROM quotas WHERE scope = ?", [.string(Self.quotaScope(bucket: name))])
    }
}
