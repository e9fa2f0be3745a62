import MetaContract

/// The SQLite schema of the metadata state machine.
///
/// All text columns hold BLOBs of UTF-8 bytes (see `SQLiteValue`), so every ordering is byte order.
/// Chunk ids are 16-byte big-endian BLOBs. `*_time` columns are milliseconds since the Unix epoch taken
/// from commands. Every table is changed only inside `MetaStateMachine.apply(batch:)`.
enum MetaSchema {
    /// Bump when a table changes; `MetaStateMachine` migrates older databases step by step
    /// (`migrations`) and refuses newer ones.
    /// 2: `users.record` carries the user's id (format 2 of the user record).
    /// 3: `bucket_usage` and `quotas`.
    /// 4: `objects.record` in format 2 of the object record (with the optional inline body).
    /// 5: versioning. `buckets.versioning` (a `BucketVersioning` raw value; 0 before), the `versions` table of
    ///    noncurrent versions and delete markers, the `version_seq` counter in `meta`, `objects.completed_upload`
    ///    (NULL for objects from before). The object record
    ///    format is unchanged (2); the migration rewrites every existing record's `versionID` to `null`,
    ///    because every object written before schema 5 is S3's `null` version.
    /// 6: access control: `buckets.acl`, `buckets.ownership`, `buckets.policy`, `objects.owner`; object
    ///    records (in `objects` and `versions`) and upload records in format 3 (with owner and ACL).
    /// 7: tagging and CORS: `buckets.tags` (a tag set in the Gateway's stored form) and `buckets.cors` (the
    ///    canonical CORS XML), NULL for none. Object versions keep their tags in their record's headers
    ///    (`ObjectRecord.storedTags`), so the record format is unchanged.
    /// 8: erasure coding: `buckets.durability`. Record formats unchanged (a chunk reference marks its layout).
    /// 9: `meta_members`, the metadata RPC address each group member published.
    /// 10: `buckets.public_access_block` (a `PublicAccessBlock` bit set, NULL for none).
    /// 11: object lock: `buckets.object_lock` (an encoded `ObjectLockConfiguration`, NULL: lock not enabled).
    ///    Object versions keep their retention and legal hold in their record's headers
    ///    (`ObjectRecord.retention`, `.legalHold`), so the record format is unchanged.
    /// 12: the blob cluster map: `blob_nodes` and the `blob_epoch` counter in `meta`.
    /// 13: lifecycle: `buckets.lifecycle` (the canonical LifecycleConfiguration XML, NULL for none).
    static let version: Int64 = 13

    /// The upload record format stored in `uploads.record` at this schema version.
    static let uploadRecordFormat: UInt8 = 3

    /// The user record format stored in `users.record` at this schema version.
    static let userRecordFormat: UInt8 = 2

    static let statements: [String] = [
        // Named integers: schema_version, applied_index, time_high_water, request_count.
        "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
        "CREATE TABLE users(name BLOB PRIMARY KEY, access_key_id BLOB NOT NULL UNIQUE, record BLOB NOT NULL) WITHOUT ROWID",
        "CREATE TABLE buckets(name BLOB PRIMARY KEY, owner BLOB NOT NULL, created_time INTEGER NOT NULL, "
            + "versioning INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
        "CREATE INDEX buckets_by_owner ON buckets(owner, name)",
        // The current version of each key (never a delete marker). Listing reads the key, size, etag and time
        // columns only; `record` is the whole encoded `ObjectRecord`. `completed_upload` (schema 5): the upload
        // whose completion made this `null` version, so that a retried completion is recognised; NULL otherwise.
        """
        CREATE TABLE objects(bucket BLOB NOT NULL, key BLOB NOT NULL, size_bytes INTEGER NOT NULL,
            etag BLOB NOT NULL, last_modified_time INTEGER NOT NULL, record BLOB NOT NULL,
            completed_upload BLOB, PRIMARY KEY(bucket, key)) WITHOUT ROWID
        """,
        """
        CREATE TABLE uploads(upload_id BLOB PRIMARY KEY, bucket BLOB NOT NULL, key BLOB NOT NULL,
            initiated_time INTEGER NOT NULL, record BLOB NOT NULL) WITHOUT ROWID
        """,
        "CREATE INDEX uploads_by_key ON uploads(bucket, key, initiated_time, upload_id)",
        """
        CREATE TABLE parts(upload_id BLOB NOT NULL, part_number INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
            etag BLOB NOT NULL, record BLOB NOT NULL, PRIMARY KEY(upload_id, part_number)) WITHOUT ROWID
        """,
        // How many objects and parts name each live chunk. A count rather than one owner: a metadata-only
        // copy may share chunks between objects, and a chunk becomes garbage only when the last one goes.
        """
        CREATE TABLE chunk_refs(chunk_id BLOB PRIMARY KEY, ref_count INTEGER NOT NULL CHECK (ref_count > 0))
            WITHOUT ROWID
        """,
        // Chunks nothing references any more, in the order they were unlinked (`seq`).
        """
        CREATE TABLE garbage(seq INTEGER PRIMARY KEY, chunk_id BLOB NOT NULL UNIQUE,
            queued_time INTEGER NOT NULL, chunk BLOB NOT NULL)
        """,
        // Recent command ids and the encoded outcome of their command.
        """
        CREATE TABLE requests(request_id BLOB PRIMARY KEY, time INTEGER NOT NULL, kind INTEGER NOT NULL,
            result BLOB NOT NULL) WITHOUT ROWID
        """,
        "CREATE INDEX requests_by_time ON requests(time, request_id)",
    ] + usageStatements + versionStatements + accessStatements + taggingStatements + durabilityStatements
        + memberStatements + publicAccessBlockStatements + objectLockStatements + blobMapStatements
        + lifecycleStatements + [
        "INSERT INTO meta(name, value) VALUES ('schema_version', \(version)), ('applied_index', 0), "
            + "('time_high_water', \(Int64.min)), ('request_count', 0), ('version_seq', 0)",
    ]

    /// The versions table (schema 5), also created by the migration from 4.
    ///
    /// Invariants, per (bucket, key): `objects` holds the current version if it is an object; `versions` holds
    /// every other version and delete marker, newest first in `seq DESC` order (`seq` comes from the
    /// `version_seq` counter when a row enters the table, so a demoted version is newer than every row already
    /// there). An `objects` row is newer than every `versions` row of its key; without one, the newest
    /// `versions` row, if any, is a delete marker (the latest version). Version ids are unique per key across
    /// both tables, and at most one is `null`. So ListObjects scans `objects` only, whatever the number of old
    /// versions, and ListObjectVersions merges two range scans. `record` is the encoded `ObjectRecord`
    /// (format 3 since schema 6; a delete marker's has size 0, no chunks and an empty ETag).
    static let versionStatements: [String] = [
        """
        CREATE TABLE versions(bucket BLOB NOT NULL, key BLOB NOT NULL, seq INTEGER NOT NULL,
            version_id BLOB NOT NULL, is_delete_marker INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
            etag BLOB NOT NULL, last_modified_time INTEGER NOT NULL, record BLOB NOT NULL,
            PRIMARY KEY(bucket, key, seq DESC)) WITHOUT ROWID
        """,
        "CREATE UNIQUE INDEX versions_by_id ON versions(bucket, key, version_id)",
    ]

    /// The usage and quota tables (schema 3), also created by the migration from 2.
    static let usageStatements: [String] = [
        // Bytes and objects stored per bucket: current objects plus the parts of open uploads. A user's
        // usage is the sum over its buckets (`buckets_by_owner`).
        """
        CREATE TABLE bucket_usage(bucket BLOB PRIMARY KEY, bytes INTEGER NOT NULL CHECK (bytes >= 0),
            objects INTEGER NOT NULL CHECK (objects >= 0)) WITHOUT ROWID
        """,
        // Quotas: `scope` is `bucket:NAME` or `user:ID`; a NULL limit is unlimited.
        "CREATE TABLE quotas(scope BLOB PRIMARY KEY, bytes_max INTEGER, objects_max INTEGER) WITHOUT ROWID",
    ]

    /// The access-control columns of `buckets` (schema 5), also added by the migration from 4. NULL means
    /// the default: `acl` the owner-only ACL (an encoded `AccessControlList` otherwise), `ownership` no
    /// ownership controls (an `ObjectOwnership` tag otherwise), `policy` no policy (its JSON text otherwise).
    /// `objects.owner` is the object's owner for listings (the record holds it too); NULL: the bucket owner.
    static let accessStatements: [String] = [
        "ALTER TABLE buckets ADD COLUMN acl BLOB",
        "ALTER TABLE buckets ADD COLUMN ownership INTEGER",
        "ALTER TABLE buckets ADD COLUMN policy BLOB",
        "ALTER TABLE objects ADD COLUMN owner BLOB",
    ]

    /// The tagging and CORS columns of `buckets` (schema 7), also added by the migration from 6. NULL: none.
    static let taggingStatements: [String] = [
        "ALTER TABLE buckets ADD COLUMN tags BLOB",
        "ALTER TABLE buckets ADD COLUMN cors BLOB",
    ]

    /// The durability column of `buckets` (schema 8), also added by the migration from 7: an encoded
    /// `BucketDurability` (`ByteWriter.write(_: BucketDurability?)`), NULL for the cluster's default.
    static let durabilityStatements: [String] = [
        "ALTER TABLE buckets ADD COLUMN durability BLOB",
    ]

    /// The members' published metadata RPC addresses (schema 9), also created by the migration from 8: what
    /// a replica reports in its status, so that gateways find members added after they started. Not part of
    /// Raft's membership (which holds Raft addresses): a member absent here is simply not advertised.
    static let memberStatements: [String] = [
        "CREATE TABLE meta_members(id INTEGER PRIMARY KEY, api_address BLOB NOT NULL)",
    ]

    /// The public access block column of `buckets` (schema 10), also added by the migration from 9.
    static let publicAccessBlockStatements: [String] = [
        "ALTER TABLE buckets ADD COLUMN public_access_block INTEGER",
    ]

    /// The object lock column of `buckets` (schema 11), also added by the migration from 10: an encoded
    /// `ObjectLockConfiguration` (`ByteWriter.write(_: ObjectLockConfiguration)`), NULL when the bucket has
    /// no object lock.
    static let objectLockStatements: [String] = [
        "ALTER TABLE buckets ADD COLUMN object_lock BLOB",
    ]

    /// The blob cluster map (schema 12), also created by the migration from 11: one row per blob node ever
    /// registered (`state` a `BlobNodeState` raw value; a removed node keeps its row so that its id is never
    /// reused), and `meta.blob_epoch`, the ring epoch (0: nothing registered yet).
    static let blobMapStatements: [String] = [
        """
        CREATE TABLE blob_nodes(id INTEGER PRIMARY KEY, address BLOB NOT NULL, zone BLOB, weight INTEGER NOT NULL,
            capacity_bytes INTEGER NOT NULL, state INTEGER NOT NULL, changed_time INTEGER NOT NULL)
        """,
        "INSERT INTO meta(name, value) VALUES ('blob_epoch', 0)",
    ]

    /// The lifecycle column of `buckets` (schema 13), also added by the migration from 12: the canonical
    /// LifecycleConfiguration XML the Gateway validated, NULL for none.
    static let lifecycleStatements: [String] = [
        "ALTER TABLE buckets ADD COLUMN lifecycle BLOB",
    ]

    /// Every table and the columns that define its order, for `MetaStateMachine.dump()`.
    static let tablesInOrder: [(name: String, orderBy: String)] = [
        ("meta", "name"), ("users", "name"), ("buckets", "name"), ("objects", "bucket, key"),
        ("uploads", "upload_id"), ("parts", "upload_id, part_number"), ("chunk_refs", "chunk_id"),
        ("garbage", "seq"), ("requests", "request_id"), ("bucket_usage", "bucket"), ("quotas", "scope"),
        ("versions", "bucket, key, seq DESC"), ("meta_members", "id"), ("blob_nodes", "id"),
    ]
}

extension ChunkID {
    /// 16 bytes, big-endian, so BLOB order is numeric order.
    var storageBytes: [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: self >> (8 * (15 - $0))) }
    }
}
