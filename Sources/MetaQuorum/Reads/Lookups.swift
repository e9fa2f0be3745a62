import MetaContract

/// Point lookups shared by the apply path and the reads. They throw `MetaError` for a refusal and
/// `SQLiteError` / `MetaCodecError` for a storage fault.
extension MetaStateMachine {
    /// The columns `bucket(from:name:)` reads, in its order.
    static let bucketColumns = "owner, created_time, acl, ownership, policy, public_access_block"

    /// The `bucketColumns` of a row, starting at column `first`.
    static func bucketColumnValues(_ row: SQLiteRow, from first: Int32 = 0) -> BucketColumns {
        (row.string(first), row.int64(first + 1), row.isNull(first + 2) ? nil : row.bytes(first + 2),
         row.isNull(first + 3) ? nil : row.int64(first + 3), row.isNull(first + 4) ? nil : row.string(first + 4),
         row.isNull(first + 5) ? nil : row.int64(first + 5))
    }

    typealias BucketColumns = (String, Int64, [UInt8]?, Int64?, String?, Int64?)

    func bucketRecord(_ name: String) throws -> BucketRecord? {
        let row = try database.firstRow("SELECT \(Self.bucketColumns) FROM buckets WHERE name = ?", [.string(name)]) {
            row in Self.bucketColumnValues(row)
        }
        guard let row else { return nil }
        return try Self.bucket(name: name, columns: row)
    }

    /// A bucket from its row; NULL access columns are the defaults (schema 6, 10).
    static func bucket(name: String, columns: BucketColumns) throws -> BucketRecord {
        let (owner, createdTime, aclBlob, ownershipTag, policy, blockBits) = columns
        let acl = try aclBlob.map { blob in
            try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readACL() }
        }
        var ownership: ObjectOwnership?
        if let ownershipTag {
            guard let tag = UInt8(exactly: ownershipTag) else { throw MetaCodecError.invalidValue("ownership \(ownershipTag)") }
            ownership = try ObjectOwnership(tag: tag)
        }
        var publicAccessBlock: PublicAccessBlock?
        if let blockBits {
            guard let bits = UInt8(exactly: blockBits), let block = PublicAccessBlock(rawValue: bits) else {
                throw MetaCodecError.invalidValue("public access block \(blockBits)")
            }
            publicAccessBlock = block
        }
        return BucketRecord(name: name, owner: owner, createdTime: createdTime, acl: acl, ownership: ownership,
                            policy: policy, publicAccessBlock: publicAccessBlock)
    }

    /// The bucket, if it exists. Throws `.noSuchBucket`. Who may act on it is decided by the Gateway's
    /// `Authorizer` before the command is proposed, never here.
    func existingBucket(_ name: String) throws -> BucketRecord {
        guard let bucket = try bucketRecord(name) else { throw MetaError.noSuchBucket }
        return bucket
    }

    func objectRecord(bucket: String, key: String) throws -> ObjectRecord? {
        guard
            let blob = try database.firstRow(
                "SELECT record FROM objects WHERE bucket = ? AND key = ?",
                [.string(bucket), .string(key)], { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readObject(format: RecordFormat.object) }
    }

    /// The upload with this id, if it exists and belongs to (bucket, key).
    func uploadRecord(bucket: String, key: String, uploadID: String) throws -> UploadRecord? {
        guard
            let blob = try database.firstRow(
                "SELECT record FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
                [.string(uploadID), .string(bucket), .string(key)], { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readUpload(format: MetaSchema.uploadRecordFormat) }
    }

    func partRecords(uploadID: String) throws -> [PartRecord] {
        try database.rows("SELECT record FROM parts WHERE upload_id = ? ORDER BY part_number", [.string(uploadID)]) {
            $0.bytes(0)
        }.map { blob in try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() } }
    }
}
