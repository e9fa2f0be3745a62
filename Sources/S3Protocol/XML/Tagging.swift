// Object and bucket tag sets: the `Tagging` XML document, the `x-amz-tagging` header, the AWS rules, and
// the one stored form (a sorted, URL-encoded query string) the metadata keeps.

/// Why a tag set was refused. The Gateway maps `.malformedXML` to `MalformedXML`, `.invalidTag` to
/// `InvalidTag` and `.invalidHeader` to `InvalidArgument`.
public enum TaggingError: Error, Sendable, Hashable {
    /// The document is not a `Tagging` document with a `TagSet`, or a `Tag` lacks its `Key` or `Value`.
    case malformedXML(reason: String)
    /// A rule of AWS's is broken: too many tags, a key or value too long or with characters AWS refuses,
    /// a repeated key, a reserved `aws:` prefix. `reason` is AWS's message.
    case invalidTag(reason: String)
    /// `x-amz-tagging` is not a URL-encoded query string of UTF-8 (or repeats a key).
    case invalidHeader(reason: String)
}

/// A tag set of an object version or a bucket: keys unique, sorted by key (byte order), within the AWS
/// limits of its kind (`S3Limits.objectTagCountMax`, `bucketTagCountMax`, key and value lengths).
public struct TagSet: Sendable, Hashable {
    /// One tag.
    public struct Tag: Sendable, Hashable {
        public var key: String
        public var value: String

        /// Creates a tag.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// What carries the tags: the limits differ (10 tags on an object version, 50 on a bucket).
    public enum Owner: Sendable, Hashable {
        case object
        case bucket

        var countMax: Int { self == .object ? S3Limits.objectTagCountMax : S3Limits.bucketTagCountMax }
    }

    /// The tags, sorted by key. Invariant: keys are unique.
    public private(set) var tags: [Tag]

    /// The empty tag set.
    public static let empty = TagSet(sortedUnique: [])

    private init(sortedUnique tags: [Tag]) { self.tags = tags }

    /// Validates `tags` (in any order) against AWS's rules for `owner`, and sorts them.
    public init(validating tags: [Tag], for owner: Owner) throws(TaggingError) {
        guard tags.count <= owner.countMax else {
            throw .invalidTag(reason: owner == .object ? "Object tags cannot be greater than \(owner.countMax)"
                : "Bucket tag count cannot be greater than \(owner.countMax)")
        }
        for tag in tags { try Self.check(tag) }
        let sorted = tags.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.key == next.key {
            throw .invalidTag(reason: "Cannot provide multiple Tags with the same key")
        }
        self.tags = sorted
    }

    public var isEmpty: Bool { tags.isEmpty }
    public var count: Int { tags.count }

    /// The value of `key`, if tagged.
    public func value(of key: String) -> String? { tags.first { $0.key == key }?.value }

    /// AWS's rules for one tag: a key of 1 to 128 Unicode characters and a value of at most 256, both of
    /// letters, numbers, separators (spaces) and `_ . : / = + - @` only; no key starts with `aws:`.
    static func check(_ tag: Tag) throws(TaggingError) {
        guard !tag.key.isEmpty, tag.key.unicodeScalars.allSatisfy(isAllowed) else {
            throw .invalidTag(reason: "The TagKey you have provided is invalid")
        }
        guard tag.key.unicodeScalars.count <= S3Limits.tagKeyCharactersMax else {
            throw .invalidTag(reason: "The TagKey you have provided is too long, max \(S3Limits.tagKeyCharactersMax)")
        }
        guard tag.value.unicodeScalars.allSatisfy(isAllowed) else {
            throw .invalidTag(reason: "The TagValue you have provided is invalid")
        }
        guard tag.value.unicodeScalars.count <= S3Limits.tagValueCharactersMax else {
            throw .invalidTag(
                reason: "The TagValue you have provided is too long, max \(S3Limits.tagValueCharactersMax)")
        }
        guard !tag.key.lowercased().hasPrefix("aws:") else {
            throw .invalidTag(reason: "Your TagKey cannot be prefixed with aws:")
        }
    }

    /// `\p{L}`, `\p{Z}`, `\p{N}` and `_ . : / = + - @`, as AWS's pattern for tag keys and values.
    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "_", ".", ":", "/", "=", "+", "-", "@": return true
        default: break
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .spaceSeparator, .lineSeparator, .paragraphSeparator,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    // MARK: Wire forms

    /// Parses a `Tagging` document (PutObjectTagging, PutBucketTagging) and validates it for `owner`.
    public static func parse(_ body: [UInt8], for owner: Owner) throws(TaggingError) -> TagSet {
        let root: XMLElementNode
        do {
            root = try XMLTree.parse(body, rootName: "Tagging")
        } catch {
            throw .malformedXML(reason: "\(error)")
        }
        guard let set = root.child("TagSet") else { throw .malformedXML(reason: "Tagging without TagSet") }
        var tags: [Tag] = []
        for node in set.children("Tag") {
            guard let key = node.child("Key")?.text, let value = node.child("Value")?.text else {
                throw .malformedXML(reason: "Tag without Key or Value")
            }
            tags.append(Tag(key: key, value: value))
            // Bounded before sorting: a body may hold far more Tag elements than any legal set.
            guard tags.count <= owner.countMax else { return try TagSet(validating: tags, for: owner) }
        }
        return try TagSet(validating: tags, for: owner)
    }

    /// Parses `x-amz-tagging` (`k1=v1&k2=v2`, URL-encoded; a `k` without `=` has the empty value).
    public static func parseHeader(_ value: String) throws(TaggingError) -> TagSet {
        var tags: [Tag] = []
        for item in value.split(separator: "&", omittingEmptySubsequences: true) {
            let (name, text) = item.firstIndex(of: "=").map { (item[..<$0], item[item.index(after: $0)...]) }
                ?? (item, "")
            func decode(_ text: Substring) throws(TaggingError) -> String {
                let spaced = text.contains("+") ? Substring(text.replacing("+", with: " ")) : text
                guard let decoded = S3URIEncoding.decode(spaced) else {
                    throw .invalidHeader(reason: "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
                }
                return decoded
            }
            tags.append(Tag(key: try decode(name), value: try decode(text)))
            guard tags.count <= TagSet.Owner.object.countMax else { break }
        }
        let keys = tags.map(\.key)
        if Set(keys).count != keys.count {
            throw .invalidHeader(reason: "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
        }
        return try TagSet(validating: tags, for: .object)
    }

    /// The stored form: `k1=v1&k2=v2`, sorted by key, every byte outside `A-Z a-z 0-9 - . _ ~` as `%XX`.
    /// Empty for the empty set.
    public var storedForm: String {
        tags.map { S3URIEncoding.encode($0.key, keepSlash: false) + "=" + S3URIEncoding.encode($0.value, keepSlash: false) }
            .joined(separator: "&")
    }

    /// Reads what `storedForm` wrote (validated when it was stored); nil for text it cannot have written.
    public init?(storedForm text: String) {
        var tags: [Tag] = []
        for item in text.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = item.firstIndex(of: "="),
                  let key = S3URIEncoding.decode(item[..<equals]),
                  let value = S3URIEncoding.decode(item[item.index(after: equals)...])
            else { return nil }
            tags.append(Tag(key: key, value: value))
        }
        self.tags = tags
    }

    /// `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>`, the GetObjectTagging and
    /// GetBucketTagging body.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("Tagging", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("TagSet") { writer in
                for tag in tags {
                    writer.element("Tag") { writer in
                        writer.element("Key", tag.key)
                        writer.element("Value", tag.value)
                    }
                }
            }
        }
        return writer.finish()
    }
}
