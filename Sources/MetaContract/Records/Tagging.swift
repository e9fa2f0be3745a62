import Crypto

/// Where an object version keeps its tag set: one entry of its `headers`, under a name no stored standard
/// header can have (`ObjectHeaders.storedNames` never includes it), holding the Gateway's validated stored
/// form (`TagSet.storedForm`: a sorted, URL-encoded query string). Kept in the record rather than in a table
/// of its own, so the tags move with their version wherever it goes (current, noncurrent, promoted, copied
/// by a completion from its upload's headers) and leave with it, with no record-format change.
extension ObjectRecord {
    /// The `headers` name of the tag set.
    public static let tagsHeaderName = "x-amz-tagging"

    /// The version's tag set in stored form; nil when it has none.
    public var storedTags: String? {
        headers.first { $0.name == Self.tagsHeaderName }?.value
    }

    /// Replaces the tag set (nil or empty: none), keeping `headers` sorted by name.
    public mutating func setStoredTags(_ tags: String?) {
        headers = ObjectRecord.headers(headers, withTags: tags)
    }

    /// `headers` without any tag set, then with `tags` (unless nil or empty), sorted by name.
    public static func headers(_ headers: [HeaderField], withTags tags: String?) -> [HeaderField] {
        var fields = headers.filter { $0.name != tagsHeaderName }
        if let tags, !tags.isEmpty { fields.append(HeaderField(name: tagsHeaderName, value: tags)) }
        return fields.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }
}

/// A digest of what an object-level access decision reads of one version (its id, owner, ACL and tags): what
/// a tagging command carries when the Gateway authorized it on a version it read. The state machine
/// recomputes it from the version it finds at apply time and refuses the command with
/// `.objectAccessChanged` (not remembered) when they differ, so the tags of a version change only under a
/// decision made on that version as it is at the command's linearization point (s3:ExistingObjectTag
/// included). SHA-256, the same in every process.
public struct ObjectAccessStamp: Sendable, Hashable, CustomStringConvertible {
    public let value: UInt64
    package init(value: UInt64) { self.value = value }
    public var description: String { String(value, radix: 16) }
}

extension ObjectRecord {
    /// The stamp of this version's access-relevant fields.
    public var accessStamp: ObjectAccessStamp {
        var writer = ByteWriter(capacity: 128)
        writer.writeString(versionID)
        writer.write(owner)
        writer.write(acl)
        writer.write(storedTags)
        let digest = SHA256.hash(data: writer.bytes)
        return ObjectAccessStamp(value: digest.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) })
    }
}
