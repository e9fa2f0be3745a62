/// One version of a key as stored: an object, or a delete marker (then `object` carries only bucket,
/// key, versionID and lastModifiedTime, with size 0 and no chunks).
public struct ObjectVersion: Sendable, Equatable {
    public var object: ObjectRecord
    public var isDeleteMarker: Bool
    /// Whether this is the latest version of its key (the current object, or a delete marker that hides it).
    public var isLatest: Bool
    public init(object: ObjectRecord, isDeleteMarker: Bool, isLatest: Bool) {
        self.object = object
        self.isDeleteMarker = isDeleteMarker
        self.isLatest = isLatest
    }
}

/// One key (and optionally one version of it) to delete.
public struct DeleteTarget: Sendable, Equatable {
    public var key: String
    /// nil: the current version (or a delete marker in a versioned bucket); `null` included otherwise.
    public var versionID: String?
    /// The id a delete marker made for this target takes when versioning is Enabled; chosen by the proposer
    /// (unused, and may be empty, when `versionID` is set).
    public var markerVersionID: String
    public init(key: String, versionID: String?, markerVersionID: String) {
        self.key = key
        self.versionID = versionID
        self.markerVersionID = markerVersionID
    }
}

/// What deleting one target did.
public struct DeleteOutcome: Sendable, Equatable {
    /// The version removed (the target's version id), or the delete marker made; nil for a plain delete in an
    /// unversioned bucket.
    public var versionID: String?
    /// A delete marker was made, or the version removed was one.
    public var isDeleteMarker: Bool
    /// Whether a current object stopped being current.
    public var removedCurrent: Bool
    /// Why the target was not deleted (a locked version: `.objectLocked`); nil when it was. A refused target
    /// changed nothing, and the command's other targets still took effect (result format 4).
    public var refusal: MetaError?
    public init(versionID: String?, isDeleteMarker: Bool, removedCurrent: Bool, refusal: MetaError? = nil) {
        self.versionID = versionID
        self.isDeleteMarker = isDeleteMarker
        self.removedCurrent = removedCurrent
        self.refusal = refusal
    }
}

/// A page request of ListObjectVersions.
public struct ListVersionsQuery: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    /// Empty: no roll-up.
    public var delimiter: String
    /// Start after this key (every version of it) or, with `versionIDMarker`, after that version of it.
    public var keyMarker: String
    public var versionIDMarker: String
    /// 0...1000.
    public var maxKeys: Int
    public init(bucket: String, prefix: String, delimiter: String, keyMarker: String, versionIDMarker: String,
                maxKeys: Int) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.versionIDMarker = versionIDMarker
        self.maxKeys = maxKeys
    }
}

/// One entry of a version listing (no chunks, no body).
public struct VersionSummary: Sendable, Equatable {
    public var key: String
    public var versionID: String
    public var isLatest: Bool
    public var isDeleteMarker: Bool
    public var sizeBytes: Int64
    public var etag: String
    public var lastModifiedTime: Int64
    public init(key: String, versionID: String, isLatest: Bool, isDeleteMarker: Bool, sizeBytes: Int64,
                etag: String, lastModifiedTime: Int64) {
        self.key = key
        self.versionID = versionID
        self.isLatest = isLatest
        self.isDeleteMarker = isDeleteMarker
        self.sizeBytes = sizeBytes
        self.etag = etag
        self.lastModifiedTime = lastModifiedTime
    }
}

/// One page of ListObjectVersions: `versions` and `commonPrefixes` together hold at most `maxKeys` entries.
/// When truncated, `nextKeyMarker` is the last key or common prefix returned and `nextVersionIDMarker` the
/// last version's id (nil after a common prefix).
public struct ListVersionsPage: Sendable, Equatable {
    public var versions: [VersionSummary]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextVersionIDMarker: String?
    /// The bucket owner (every version's owner).
    public var owner: String
    public init(versions: [VersionSummary], commonPrefixes: [String], isTruncated: Bool, nextKeyMarker: String?,
                nextVersionIDMarker: String?, owner: String) {
        self.versions = versions
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextKeyMarker = nextKeyMarker
        self.nextVersionIDMarker = nextVersionIDMarker
        self.owner = owner
    }
}

/// The version id of S3's `null` version (objects written while versioning was not enabled).
public let nullVersionID = "null"
