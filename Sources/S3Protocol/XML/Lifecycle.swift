// A bucket's lifecycle configuration: the `LifecycleConfiguration` document with AWS's validation, the
// canonical XML the metadata stores and GetBucketLifecycleConfiguration returns, and the pure decisions a
// lifecycle worker takes from it (which version expires, which upload is aborted, and when).

/// Why a lifecycle configuration was refused. The Gateway maps each case to the S3 error of the same name.
public enum LifecycleConfigurationError: Error, Sendable, Hashable {
    /// Not a `LifecycleConfiguration` of 1 to 1,000 `Rule`s each with a `Status` of `Enabled` or `Disabled`,
    /// a filter (`Filter` or the older rule-level `Prefix`, not both) and at most one of each action; a
    /// filter naming more than one condition outside `And`; an `Expiration` with none or several of `Days`,
    /// `Date`, `ExpiredObjectDeleteMarker`.
    case malformedXML(reason: String)
    /// A value AWS refuses: days not a positive integer, a date not at midnight UTC, an `ID` longer than 255
    /// characters or used twice, `NewerNoncurrentVersions` outside 1...100, a size range that is empty.
    case invalidArgument(reason: String)
    /// A combination AWS refuses: a rule with no action, tag filters with `ExpiredObjectDeleteMarker` or
    /// `AbortIncompleteMultipartUpload`.
    case invalidRequest(reason: String)
    /// A transition to another storage class: Silo keeps one storage class.
    case notImplemented(String)
}

/// A bucket's lifecycle rules, in document order.
public struct LifecycleConfiguration: Sendable, Hashable {
    /// Which objects a rule applies to: every condition must hold (an empty filter matches every object).
    public struct Filter: Sendable, Hashable {
        public var prefix: String
        public var tags: [TagSet.Tag]
        /// Objects strictly larger than this many bytes.
        public var sizeGreaterThan: Int64?
        /// Objects strictly smaller than this many bytes.
        public var sizeLessThan: Int64?
        /// The rule named its prefix at rule level (`Rule/Prefix`, the older form), not in a `Filter`.
        public var ruleLevelPrefix: Bool

        public init(prefix: String = "", tags: [TagSet.Tag] = [], sizeGreaterThan: Int64? = nil,
                    sizeLessThan: Int64? = nil, ruleLevelPrefix: Bool = false) {
            self.prefix = prefix
            self.tags = tags
            self.sizeGreaterThan = sizeGreaterThan
            self.sizeLessThan = sizeLessThan
            self.ruleLevelPrefix = ruleLevelPrefix
        }

        /// Whether an object with this key and size matches, tags aside (`tags` empty or checked apart).
        public func matches(key: String, sizeBytes: Int64) -> Bool {
            key.hasPrefix(prefix) && sizeGreaterThan.map { sizeBytes > $0 } != false
                && sizeLessThan.map { sizeBytes < $0 } != false
        }

        /// Whether `objectTags` holds every tag of the filter (key and value).
        public func matches(objectTags: [TagSet.Tag]) -> Bool {
            tags.allSatisfy { objectTags.contains($0) }
        }
    }

    /// When the current version of a matching object expires.
    public enum Expiration: Sendable, Hashable {
        /// This many days after it was written.
        case days(Int)
        /// From this time on (milliseconds since the Unix epoch, a midnight UTC).
        case date(Int64)
        /// Only delete markers that are the last version of their key go.
        case expiredObjectDeleteMarker
    }

    /// One `Rule`.
    public struct Rule: Sendable, Hashable {
        public var id: String
        public var enabled: Bool
        public var filter: Filter
        public var expiration: Expiration?
        /// Noncurrent versions go this many days after they became noncurrent ...
        public var noncurrentDays: Int?
        /// ... except the newest this many noncurrent versions of each key.
        public var newerNoncurrentVersions: Int?
        /// Uploads not completed this many days after they were created are aborted.
        public var abortIncompleteDays: Int?

        public init(id: String, enabled: Bool, filter: Filter, expiration: Expiration? = nil,
                    noncurrentDays: Int? = nil, newerNoncurrentVersions: Int? = nil, abortIncompleteDays: Int? = nil) {
            self.id = id
            self.enabled = enabled
            self.filter = filter
            self.expiration = expiration
            self.noncurrentDays = noncurrentDays
            self.newerNoncurrentVersions = newerNoncurrentVersions
            self.abortIncompleteDays = abortIncompleteDays
        }
    }

    public var rules: [Rule]

    /// Creates a configuration (unvalidated; `parse` validates).
    public init(rules: [Rule]) { self.rules = rules }

    // MARK: Parsing

    /// Parses and validates a `LifecycleConfiguration` document. A rule without an `ID` gets
    /// `makeID()` (AWS assigns one too), so the stored configuration names every rule.
    public static func parse(_ body: [UInt8], makeID: () -> String) throws(LifecycleConfigurationError)
        -> LifecycleConfiguration
    {
        let root: XMLElementNode
        do {
            root = try XMLTree.parse(body, rootName: "LifecycleConfiguration")
        } catch {
            throw .malformedXML(reason: "\(error)")
        }
        let nodes = root.children("Rule")
        guard !nodes.isEmpty else { throw .malformedXML(reason: "no Rule") }
        guard nodes.count <= S3Limits.lifecycleRuleCountMax else {
            throw .malformedXML(reason: "more than \(S3Limits.lifecycleRuleCountMax) Rules")
        }
        var rules: [Rule] = []
        var ids: Set<String> = []
        for node in nodes {
            let rule = try parseRule(node, makeID: makeID)
            guard ids.insert(rule.id).inserted else {
                throw .invalidArgument(reason: "Rule ID must be unique. Found same ID for more than one rule")
            }
            rules.append(rule)
        }
        return LifecycleConfiguration(rules: rules)
    }

    private static func text(_ node: XMLElementNode?) -> String? {
        node.map { String($0.text.trimmingSpaces()) }
    }

    /// A positive number of days (AWS: "must be a positive integer").
    private static func days(_ node: XMLElementNode?, _ what: String, of action: String)
        throws(LifecycleConfigurationError) -> Int?
    {
        guard let text = text(node) else { return nil }
        let refusal = LifecycleConfigurationError.invalidArgument(
            reason: "'\(what)' for \(action) action must be a positive integer")
        guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            if Int(text) != nil { throw refusal }
            throw .malformedXML(reason: "'\(what)' is not an integer")
        }
        guard let value = Int(text), value > 0, value <= S3Limits.lifecycleDaysMax else { throw refusal }
        return value
    }

    private static func size(_ node: XMLElementNode?, _ what: String) throws(LifecycleConfigurationError) -> Int64? {
        guard let text = text(node) else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw .invalidArgument(reason: "'\(what)' should be a non-negative integer")
        }
        return value
    }

    private static func parseTag(_ node: XMLElementNode) throws(LifecycleConfigurationError) -> TagSet.Tag {
        guard let key = node.child("Key").map({ $0.text }), !key.isEmpty,
              key.count <= S3Limits.tagKeyCharactersMax
        else { throw .invalidArgument(reason: "a Tag needs a Key of 1 to \(S3Limits.tagKeyCharactersMax) characters") }
        let value = node.child("Value").map { $0.text } ?? ""
        guard value.count <= S3Limits.tagValueCharactersMax else {
            throw .invalidArgument(reason: "a Tag Value is longer than \(S3Limits.tagValueCharactersMax) characters")
        }
        return TagSet.Tag(key: key, value: value)
    }

    /// AWS's `Filter` holds one condition, or several inside `And`. Several conditions directly in `Filter`
    /// (what RGW accepts and Ceph's s3-tests send) mean the same as inside `And`, so they are read that way;
    /// `And` beside another condition, or a condition named twice, is refused.
    private static func parseFilter(_ node: XMLElementNode) throws(LifecycleConfigurationError) -> Filter {
        let direct = ["Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan"]
        let conditions = node.children.filter { direct.contains($0.name) }
        let and = node.children("And")
        guard and.count <= 1, and.isEmpty || conditions.isEmpty else {
            throw .malformedXML(reason: "a Filter names And beside another condition")
        }
        let holder = and.first ?? node
        for name in ["Prefix", "ObjectSizeGreaterThan", "ObjectSizeLessThan"] where holder.children(name).count > 1 {
            throw .malformedXML(reason: "a Filter names \(name) twice")
        }
        var filter = Filter()
        filter.prefix = holder.child("Prefix")?.text ?? ""
        var tags: [TagSet.Tag] = []
        for tag in holder.children("Tag") { tags.append(try parseTag(tag)) }
        guard Set(tags.map(\.key)).count == tags.count else {
            throw .invalidArgument(reason: "Duplicate Tag Keys are not allowed.")
        }
        filter.tags = tags
        filter.sizeGreaterThan = try size(holder.child("ObjectSizeGreaterThan"), "ObjectSizeGreaterThan")
        filter.sizeLessThan = try size(holder.child("ObjectSizeLessThan"), "ObjectSizeLessThan")
        if let low = filter.sizeGreaterThan, let high = filter.sizeLessThan, low >= high {
            throw .invalidArgument(reason: "ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
        }
        return filter
    }

    private static func parseRule(_ node: XMLElementNode, makeID: () -> String) throws(LifecycleConfigurationError)
        -> Rule
    {
        let id = text(node.child("ID")).flatMap { $0.isEmpty ? nil : $0 } ?? makeID()
        guard id.count <= S3Limits.lifecycleRuleIDCharactersMax else {
            throw .invalidArgument(reason: "ID length should not exceed allowed limit of \(S3Limits.lifecycleRuleIDCharactersMax)")
        }
        let enabled: Bool
        switch text(node.child("Status")) {
        case "Enabled": enabled = true
        case "Disabled": enabled = false
        default: throw .malformedXML(reason: "a Rule's Status must be Enabled or Disabled")
        }
        let filter: Filter
        switch (node.child("Filter"), node.child("Prefix")) {
        case (let filterNode?, nil): filter = try parseFilter(filterNode)
        case (nil, let prefix?): filter = Filter(prefix: prefix.text, ruleLevelPrefix: true)
        case (nil, nil): filter = Filter()
        case (_?, _?): throw .malformedXML(reason: "a Rule has both a Filter and a Prefix")
        }
        for name in ["Expiration", "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"]
        where node.children(name).count > 1 {
            throw .malformedXML(reason: "a Rule has more than one \(name)")
        }
        var rule = Rule(id: id, enabled: enabled, filter: filter)
        if let expiration = node.child("Expiration") {
            let days = try days(expiration.child("Days"), "Days", of: "Expiration")
            let date = try midnight(expiration.child("Date"))
            var marker = false
            if let text = text(expiration.child("ExpiredObjectDeleteMarker")) {
                guard text == "true" || text == "false" else {
                    throw .malformedXML(reason: "ExpiredObjectDeleteMarker must be true or false")
                }
                marker = text == "true"
            }
            switch (days, date, marker) {
            case (let days?, nil, false): rule.expiration = .days(days)
            case (nil, let date?, false): rule.expiration = .date(date)
            case (nil, nil, true): rule.expiration = .expiredObjectDeleteMarker
            case (nil, nil, false) where expiration.child("ExpiredObjectDeleteMarker") != nil: rule.expiration = nil
            default:
                throw .malformedXML(reason: "an Expiration needs exactly one of Days, Date, ExpiredObjectDeleteMarker")
            }
            if rule.expiration == .expiredObjectDeleteMarker, !filter.tags.isEmpty {
                throw .invalidRequest(reason: "ExpiredObjectDeleteMarker cannot be specified with object tags")
            }
        }
        if let noncurrent = node.child("NoncurrentVersionExpiration") {
            guard let days = try days(noncurrent.child("NoncurrentDays"), "NoncurrentDays", of: "NoncurrentVersionExpiration") else {
                throw .malformedXML(reason: "a NoncurrentVersionExpiration needs NoncurrentDays")
            }
            rule.noncurrentDays = days
            if let text = text(noncurrent.child("NewerNoncurrentVersions")) {
                guard let count = Int(text), (1...S3Limits.lifecycleNewerNoncurrentVersionsMax).contains(count) else {
                    throw .invalidArgument(
                        reason: "'NewerNoncurrentVersions' must be from 1 to \(S3Limits.lifecycleNewerNoncurrentVersionsMax)")
                }
                rule.newerNoncurrentVersions = count
            }
        }
        if let abort = node.child("AbortIncompleteMultipartUpload") {
            guard let days = try days(abort.child("DaysAfterInitiation"), "DaysAfterInitiation", of: "AbortIncompleteMultipartUpload") else {
                throw .malformedXML(reason: "an AbortIncompleteMultipartUpload needs DaysAfterInitiation")
            }
            guard filter.tags.isEmpty else {
                throw .invalidRequest(reason: "AbortIncompleteMultipartUpload cannot be specified with Tags.")
            }
            rule.abortIncompleteDays = days
        }
        // A transition is checked as AWS checks it, then refused: Silo has one storage class, and ignoring it
        // would be a silent success.
        let transitions = node.children("Transition") + node.children("NoncurrentVersionTransition")
        for transition in transitions {
            _ = try midnight(transition.child("Date"))
            _ = try days(transition.child("Days"), "Days", of: "Transition")
        }
        if !transitions.isEmpty { throw .notImplemented("Lifecycle transitions (Silo keeps one storage class)") }
        guard rule.expiration != nil || rule.noncurrentDays != nil || rule.abortIncompleteDays != nil else {
            throw .invalidRequest(reason: "At least one action needs to be specified in a rule")
        }
        return rule
    }

    /// An ISO 8601 date at midnight UTC (milliseconds), as `Date` must be; nil when absent.
    private static func midnight(_ node: XMLElementNode?) throws(LifecycleConfigurationError) -> Int64? {
        guard let text = text(node) else { return nil }
        guard let time = S3Time.parseISO8601(text) ?? S3Time.parseISO8601(text + "T00:00:00Z") else {
            throw .invalidArgument(reason: "Invalid date: \(text.prefix(64))")
        }
        guard time % LifecycleClock.realDayMilliseconds == 0 else {
            throw .invalidArgument(reason: "'Date' must be at midnight GMT")
        }
        return time
    }

    // MARK: The canonical document

    /// The canonical document: what the metadata stores and GetBucketLifecycleConfiguration returns.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("LifecycleConfiguration", namespace: XMLWriter.s3Namespace) { writer in
            for rule in rules {
                writer.element("Rule") { writer in
                    writer.element("ID", rule.id)
                    let filter = rule.filter
                    if filter.ruleLevelPrefix {
                        writer.element("Prefix", filter.prefix)
                    } else {
                        writer.element("Filter") { writer in Self.write(filter, into: &writer) }
                    }
                    writer.element("Status", rule.enabled ? "Enabled" : "Disabled")
                    if let expiration = rule.expiration {
                        writer.element("Expiration") { writer in
                            switch expiration {
                            case .days(let days): writer.element("Days", days)
                            case .date(let time): writer.element("Date", S3Time.iso8601(milliseconds: time))
                            case .expiredObjectDeleteMarker: writer.element("ExpiredObjectDeleteMarker", "true")
                            }
                        }
                    }
                    if let days = rule.noncurrentDays {
                        writer.element("NoncurrentVersionExpiration") { writer in
                            writer.element("NoncurrentDays", days)
                            if let count = rule.newerNoncurrentVersions { writer.element("NewerNoncurrentVersions", count) }
                        }
                    }
                    if let days = rule.abortIncompleteDays {
                        writer.element("AbortIncompleteMultipartUpload") { writer in
                            writer.element("DaysAfterInitiation", days)
                        }
                    }
                }
            }
        }
        return writer.finish()
    }

    private static func write(_ filter: Filter, into writer: inout XMLWriter) {
        let conditions = (filter.prefix.isEmpty ? 0 : 1) + filter.tags.count
            + (filter.sizeGreaterThan == nil ? 0 : 1) + (filter.sizeLessThan == nil ? 0 : 1)
        func tag(_ tag: TagSet.Tag, _ writer: inout XMLWriter) {
            writer.element("Tag") { writer in
                writer.element("Key", tag.key)
                writer.element("Value", tag.value)
            }
        }
        func body(_ writer: inout XMLWriter) {
            if !filter.prefix.isEmpty || conditions == 0 { writer.element("Prefix", filter.prefix) }
            for t in filter.tags { tag(t, &writer) }
            if let size = filter.sizeGreaterThan { writer.element("ObjectSizeGreaterThan", size) }
            if let size = filter.sizeLessThan { writer.element("ObjectSizeLessThan", size) }
        }
        if conditions > 1 {
            writer.element("And") { writer in body(&writer) }
        } else {
            body(&writer)
        }
    }
}
