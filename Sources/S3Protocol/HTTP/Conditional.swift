/// An entity tag: its opaque value (without quotes) and whether it is weak (`W/"..."`).
public struct EntityTag: Sendable, Hashable {
    /// The opaque value without quotes (`9b2cf535f27731c974343645a3985328` or `...-3`).
    public var value: String
    /// True for `W/"..."`.
    public var isWeak: Bool

    /// Creates a tag.
    public init(value: String, isWeak: Bool = false) {
        self.value = value
        self.isWeak = isWeak
    }

    /// Reads `"abc"`, `W/"abc"`, or, leniently (some clients do not quote), `abc`.
    public init?(parsing text: some StringProtocol) {
        var rest = Substring(text.trimmingSpaces())
        isWeak = rest.hasPrefix("W/")
        if isWeak { rest = rest.dropFirst(2) }
        if rest.hasPrefix("\"") {
            guard rest.count >= 2, rest.hasSuffix("\"") else { return nil }
            rest = rest.dropFirst().dropLast()
        }
        guard !rest.isEmpty, !rest.contains("\"") else { return nil }
        value = String(rest)
    }

    /// The header form: `"abc"` or `W/"abc"`.
    public var headerValue: String { (isWeak ? "W/" : "") + "\"" + value + "\"" }

    /// Adds quotes to a bare ETag value (`abc` → `"abc"`); a value that already has them is unchanged.
    public static func quote(_ value: String) -> String {
        value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 ? value : "\"" + value + "\""
    }

    /// Removes surrounding quotes (and a `W/` prefix) from an ETag; other text is unchanged.
    public static func unquote(_ text: String) -> String {
        EntityTag(parsing: text)?.value ?? text
    }
}

/// The value of `If-Match` / `If-None-Match`: `*` or a list of tags.
public enum ETagCondition: Sendable, Hashable {
    /// `*`: any current representation.
    case any
    /// `"a", "b", W/"c"`.
    case tags([EntityTag])

    /// Reads a header value; nil when malformed, empty, or longer than `S3Limits.etagListCountMax` tags.
    /// Several header lines of the same name should be joined with `,` first.
    public static func parse(_ header: String) -> ETagCondition? {
        let trimmed = header.trimmingSpaces()
        if trimmed == "*" { return .any }
        var tags: [EntityTag] = []
        for item in trimmed.split(separator: ",", omittingEmptySubsequences: true) {
            guard let tag = EntityTag(parsing: item) else { return nil }
            tags.append(tag)
            guard tags.count <= S3Limits.etagListCountMax else { return nil }
        }
        return tags.isEmpty ? nil : .tags(tags)
    }

    /// Strong comparison (If-Match): weak tags never match.
    public func matchesStrongly(_ etag: String) -> Bool {
        let value = EntityTag.unquote(etag)
        switch self {
        case .any: return true
        case .tags(let tags): return tags.contains { !$0.isWeak && $0.value == value }
        }
    }

    /// Weak comparison (If-None-Match): the `W/` prefix is ignored.
    public func matchesWeakly(_ etag: String) -> Bool {
        let value = EntityTag.unquote(etag)
        switch self {
        case .any: return true
        case .tags(let tags): return tags.contains { $0.value == value }
        }
    }
}

/// What to do with a conditional request.
public enum ConditionalOutcome: Sendable, Hashable {
    /// Conditions hold (or there are none): serve or copy.
    case proceed
    /// 304 Not Modified (GET/HEAD only).
    case notModified
    /// 412 Precondition Failed.
    case preconditionFailed
}

/// The four conditional headers of a GET/HEAD (`If-Match` ...) or of a copy source
/// (`x-amz-copy-source-if-match` ...), parsed. Unparseable dates are ignored, as RFC 9110 requires.
public struct ConditionalHeaders: Sendable, Hashable {
    /// Which header family.
    public enum Family: Sendable, Hashable {
        /// `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since` on GetObject / HeadObject.
        case read
        /// `x-amz-copy-source-if-*` on CopyObject / UploadPartCopy.
        case copySource

        var prefix: String { self == .read ? "if-" : "x-amz-copy-source-if-" }
    }

    public var ifMatch: ETagCondition?
    public var ifNoneMatch: ETagCondition?
    /// Milliseconds since the epoch (second precision).
    public var ifModifiedSince: Int64?
    /// Milliseconds since the epoch (second precision).
    public var ifUnmodifiedSince: Int64?

    /// Creates conditions directly.
    public init(ifMatch: ETagCondition?, ifNoneMatch: ETagCondition?, ifModifiedSince: Int64?, ifUnmodifiedSince: Int64?) {
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.ifModifiedSince = ifModifiedSince
        self.ifUnmodifiedSince = ifUnmodifiedSince
    }

    /// Reads the family's headers (case-insensitive names; repeated ETag headers are joined). A malformed
    /// ETag list counts as a list that matches nothing.
    public static func parse(headers: [(name: String, value: String)], family: Family) -> ConditionalHeaders {
        var ifMatchText: [String] = [], ifNoneMatchText: [String] = []
        var result = ConditionalHeaders(ifMatch: nil, ifNoneMatch: nil, ifModifiedSince: nil, ifUnmodifiedSince: nil)
        let prefix = family.prefix
        for (name, value) in headers {
            let lowered = name.lowercased()
            guard lowered.hasPrefix(prefix) else { continue }
            switch lowered.dropFirst(prefix.count) {
            case "match": ifMatchText.append(value)
            case "none-match": ifNoneMatchText.append(value)
            case "modified-since": result.ifModifiedSince = S3Time.parseHTTPDate(value) ?? result.ifModifiedSince
            case "unmodified-since": result.ifUnmodifiedSince = S3Time.parseHTTPDate(value) ?? result.ifUnmodifiedSince
            default: continue
            }
        }
        if !ifMatchText.isEmpty { result.ifMatch = ETagCondition.parse(ifMatchText.joined(separator: ",")) ?? .tags([]) }
        if !ifNoneMatchText.isEmpty { result.ifNoneMatch = ETagCondition.parse(ifNoneMatchText.joined(separator: ",")) ?? .tags([]) }
        return result
    }

    /// True when no condition is present.
    public var isEmpty: Bool { ifMatch == nil && ifNoneMatch == nil && ifModifiedSince == nil && ifUnmodifiedSince == nil }

    /// Evaluates the conditions against an existing object, in RFC 9110 §13.2.2 order, which is also S3's:
    /// 1. If-Match false → 412; if it holds, If-Unmodified-Since is not evaluated (S3: "If-Match true and
    ///    If-Unmodified-Since false → 200").
    /// 2. Else If-Unmodified-Since: modified after the date → 412.
    /// 3. If-None-Match: a match → 304 for reads, 412 for copy sources; if present, If-Modified-Since is not
    ///    evaluated.
    /// 4. Else If-Modified-Since: not modified since the date → 304 for reads, 412 for copy sources.
    /// Dates compare at second precision (HTTP dates have no milliseconds).
    public func evaluate(etag: String, lastModifiedMilliseconds: Int64, family: Family) -> ConditionalOutcome {
        let lastModifiedSeconds = S3Time.Fields.floorDivide(lastModifiedMilliseconds, 1000).0
        func seconds(_ milliseconds: Int64) -> Int64 { S3Time.Fields.floorDivide(milliseconds, 1000).0 }
        if let ifMatch {
            guard ifMatch.matchesStrongly(etag) else { return .preconditionFailed }
        } else if let ifUnmodifiedSince, lastModifiedSeconds > seconds(ifUnmodifiedSince) {
            return .preconditionFailed
        }
        let notModified: ConditionalOutcome = family == .read ? .notModified : .preconditionFailed
        if let ifNoneMatch {
            if ifNoneMatch.matchesWeakly(etag) { return notModified }
        } else if let ifModifiedSince, lastModifiedSeconds <= seconds(ifModifiedSince) {
            return notModified
        }
        return .proceed
    }
}
