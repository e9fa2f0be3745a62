/// A chunk no metadata needs any more, queued at `queuedTime` (the unlinking command's time).
public struct GarbageChunk: Sendable, Equatable {
    public var chunk: ChunkRef
    /// Milliseconds since the Unix epoch.
    public var queuedTime: Int64
    public init(chunk: ChunkRef, queuedTime: Int64) {
        self.chunk = chunk
        self.queuedTime = queuedTime
    }
}

/// Whose usage a quota limits.
public enum QuotaTarget: Sendable, Equatable {
    case bucket(String)
    /// A user by name (resolved to its id when the command applies).
    case user(String)
}

/// Limits on stored bytes and object count; nil means unlimited.
public struct Quota: Sendable, Equatable, Codable {
    public var bytesMax: Int64?
    public var objectsMax: Int64?
    public init(bytesMax: Int64? = nil, objectsMax: Int64? = nil) {
        self.bytesMax = bytesMax
        self.objectsMax = objectsMax
    }
}

/// Stored bytes (objects plus the parts of open uploads) and objects of a bucket or a user, with its quota.
public struct UsageReport: Sendable, Equatable, Codable {
    public var bytes: Int64
    public var objects: Int64
    public var quota: Quota
    public init(bytes: Int64, objects: Int64, quota: Quota) {
        self.bytes = bytes
        self.objects = objects
        self.quota = quota
    }
}
