public struct ListObjectsQuery: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    /// Empty: no roll-up.
    public var delimiter: String
    /// Return keys (and common prefixes) strictly greater than this. Empty: from the start.
    public var startAfter: String
    /// 0...1000.
    public var maxKeys: Int
    public init(bucket: String, prefix: String, delimiter: String, startAfter: String, maxKeys: Int) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.startAfter = startAfter
        self.maxKeys = maxKeys
    }
}

public struct ObjectSummary: Sendable, Equatable {
    public var key: String
    public var sizeBytes: Int64
    public var etag: String
    public var lastModifiedTime: Int64
    public var owner: String
    public init(key: String, sizeBytes: Int64, etag: String, lastModifiedTime: Int64, owner: String) {
        self.key = key
        self.sizeBytes = sizeBytes
        self.etag = etag
        self.lastModifiedTime = lastModifiedTime
        self.owner = owner
    }
}

/// One page of a listing. `objects` and `commonPrefixes` together hold at most `maxKeys` entries, in key
/// order; `nextMarker` is the last key or common prefix returned when `isTruncated`.
public struct ListObjectsPage: Sendable, Equatable {
    public var objects: [ObjectSummary]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextMarker: String?
    public init(objects: [ObjectSummary], commonPrefixes: [String], isTruncated: Bool, nextMarker: String?) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextMarker = nextMarker
    }
}
