/// One action of a lifecycle pass on one version of a key, as the pass saw it. The state machine applies it
/// only if the version is still as seen (same version id, same last-modified time, same standing), so an
/// expiration that races a PUT, a delete or another pass never removes what it did not decide on.
public struct LifecycleExpiry: Sendable, Equatable {
    public enum Action: UInt8, Sendable, Equatable {
        /// The current object expires: in an unversioned bucket it goes; in a versioned one a delete marker
        /// (`markerVersionID` when versioning is Enabled, `null` when Suspended) becomes the latest version.
        case expireCurrent = 1
        /// A noncurrent version (not a delete marker) is removed for good.
        case removeNoncurrent = 2
        /// A delete marker that is the only version of its key is removed.
        case removeExpiredMarker = 3
    }

    public var key: String
    public var versionID: String
    /// The version's last-modified time as the pass read it (a `null` version id repeats; this does not).
    public var lastModifiedTime: Int64
    public var action: Action
    /// The id of the delete marker `expireCurrent` makes in a bucket whose versioning is Enabled; chosen by
    /// the proposer, unused otherwise.
    public var markerVersionID: String

    public init(key: String, versionID: String, lastModifiedTime: Int64, action: Action, markerVersionID: String = "") {
        self.key = key
        self.versionID = versionID
        self.lastModifiedTime = lastModifiedTime
        self.action = action
        self.markerVersionID = markerVersionID
    }
}
