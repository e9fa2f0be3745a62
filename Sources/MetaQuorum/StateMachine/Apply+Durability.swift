/// Bucket durability (schema 8: `buckets.durability`, an encoded `BucketDurability`, NULL for the cluster's
/// default): set by `setBucketDurability`, read by the `bucketDurability` query.
extension MetaStateMachine {
    func applySetBucketDurability(bucket: String, durability: BucketDurability?) throws {
        _ = try existingBucket(bucket)
        try durability?.validate()
        let value: SQLiteValue =
            durability.map { durability in .bytes(RecordBlob.encode { $0.write(durability) }) } ?? .null
        try database.run("UPDATE buckets SET durability = ? WHERE name = ?", [value, .string(bucket)])
    }

    /// The bucket's durability; nil when none was set (the gateway then uses the cluster's default).
    func bucketDurability(_ bucket: String) throws -> BucketDurability? {
        _ = try existingBucket(bucket)
        guard
            let blob = try database.firstRow(
                "SELECT durability FROM buckets WHERE name = ? AND durability IS NOT NULL", [.string(bucket)],
                { $0.bytes(0) })
        else { return nil }
        return try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readDurability() }
    }
}
