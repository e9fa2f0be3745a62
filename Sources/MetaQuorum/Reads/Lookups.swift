/// Point lookups shared by the apply path and the reads. They throw `MetaError` for a refusal and
/// `SQLiteError` / `MetaCodecError` for a storage fault.
extension MetaStateMachine {
    func bucketRecord(_ name: String) throws -> BucketRecord? {
        try database.firstRow("SELECT owner, created_time FROM buckets WHERE name = ?", [.string(name)]) { row in
            BucketRecord(name: name, owner: row.string(0), createdTime: row.int64(1))
        }
    }

    /// The bucket, if it exists and `requester` owns it. Throws `.noSuchBucket` or `.accessDenied`.
    func ownedBucket(_ name: String, requester: String) throws -> BucketRecord {
        guard let bucket = try bucketRecord(name) else { throw MetaError.noSuchBucket }
        guard bucket.owner == requester else { throw MetaError.accessDenied }
        return bucket
    }

    func objectRecord(bucket: String, key: String) throws -> ObjectRecord? {
        guard
            let blob = try database.firstRow(
                "SELECT record FROM objects WHERE bucket = ? AND key = ?",
                [.string(bucket), .string(key)], { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readObject(format: MetaSchema.objectRecordFormat) }
    }

    /// The upload with this id, if it exists and belongs to (bucket, key).
    func uploadRecord(bucket: String, key: String, uploadID: String) throws -> UploadRecord? {
        guard
            let blob = try database.firstRow(
                "SELECT record FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?",
                [.string(uploadID), .string(bucket), .string(key)], { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readUpload() }
    }

    func partRecords(uploadID: String) throws -> [PartRecord] {
        try database.rows("SELECT record FROM parts WHERE upload_id = ? ORDER BY part_number", [.string(uploadID)]) {
            $0.bytes(0)
        }.map { blob in try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() } }
    }
}
