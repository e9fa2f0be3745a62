/// S3 object lock: the bucket's configuration (lock enabled, an optional default retention) and each
/// version's retention and legal hold.
///
/// A version keeps its retention and legal hold in its record's `headers`, under names no stored standard
/// header has (as its tags are kept, see `ObjectRecord.tagsHeaderName`): they move with the version wherever
/// it goes and leave with it, with no record-format change. Every rule that depends on them (a delete of a
/// locked version, a shortened retention) is decided by the state machine at apply time, against the
/// command's time, so every gateway sees one answer.

/// How strictly a retention holds until its date.
public enum RetentionMode: UInt8, Sendable, Equatable, Hashable, CaseIterable {
    /// Shortened, removed or deleted through only with `x-amz-bypass-governance-retention` (and the
    /// permission s3:BypassGovernanceRetention, which the Gateway checks).
    case governance = 1
    /// Never shortened, removed or deleted through by anyone until it expires.
    case compliance = 2

    /// The S3 name (`GOVERNANCE`, `COMPLIANCE`).
    public var name: String { self == .governance ? "GOVERNANCE" : "COMPLIANCE" }

    /// The mode S3 names `name` (case-sensitive, as S3 is), nil for any other text.
    public init?(name: String) {
        guard let mode = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = mode
    }
}

/// The retention a bucket gives every new version that asks for none: a mode and a period from the write.
public struct DefaultRetention: Sendable, Equatable, Hashable {
    /// S3's period: a number of days or of years, never both.
    public enum Period: Sendable, Equatable, Hashable {
        case days(Int)
        case years(Int)
    }

    public var mode: RetentionMode
    /// Invariant: within `ObjectLockLimits` (checked by the Gateway and by the codec).
    public var period: Period

    public init(mode: RetentionMode, period: Period) {
        self.mode = mode
        self.period = period
    }

    /// The retain-until time of a version written at `time` (ms): a year is 365 days, as S3 counts it.
    public func retainUntil(from time: Int64) -> Int64 {
        let days: Int = switch period {
        case .days(let count): count
        case .years(let count): count * 365
        }
        return time + Int64(days) * 86_400_000
    }
}

/// The limits S3 puts on a default retention period.
public enum ObjectLockLimits {
    /// The longest default retention in days (100 years).
    public static let defaultRetentionDaysMax = 36_500
    /// The longest default retention in years.
    public static let defaultRetentionYearsMax = 100

    /// Whether `period` is one S3 accepts: at least one day or year, at most the limits above.
    public static func isValid(_ period: DefaultRetention.Period) -> Bool {
        switch period {
        case .days(let count): (1...defaultRetentionDaysMax).contains(count)
        case .years(let count): (1...defaultRetentionYearsMax).contains(count)
        }
    }
}

/// A bucket's object lock configuration. Its presence means object lock is enabled (S3 never disables it);
/// `defaultRetention` nil: versions get no retention unless they ask for one.
public struct ObjectLockConfiguration: Sendable, Equatable, Hashable {
    public var defaultRetention: DefaultRetention?
    public init(defaultRetention: DefaultRetention? = nil) {
        self.defaultRetention = defaultRetention
    }
}

/// One version's retention: a mode and the time (ms since the Unix epoch) until which it holds.
public struct ObjectRetention: Sendable, Equatable, Hashable {
    public var mode: RetentionMode
    public var retainUntil: Int64
    public init(mode: RetentionMode, retainUntil: Int64) {
        self.mode = mode
        self.retainUntil = retainUntil
    }

    /// Whether the retention still holds at `time` (ms).
    public func holds(at time: Int64) -> Bool { retainUntil > time }

    /// The stored form: the mode's name, a space, the retain-until time in decimal ms.
    package var storedForm: String { "\(mode.name) \(retainUntil)" }

    package init?(storedForm: String) {
        let fields = storedForm.split(separator: " ")
        guard fields.count == 2, let mode = RetentionMode(name: String(fields[0])), let until = Int64(fields[1])
        else { return nil }
        self.init(mode: mode, retainUntil: until)
    }
}

extension ObjectRecord {
    /// The `headers` name of the version's retention (`ObjectRetention.storedForm`).
    public static let retentionHeaderName = "x-amz-object-lock-retention"
    /// The `headers` name of the version's legal hold, `ON` or `OFF` (absent: never set).
    public static let legalHoldHeaderName = "x-amz-object-lock-legal-hold"

    /// Whether `name` is one of the object lock entries of `headers` (not a header to return as stored).
    public static func isLockHeaderName(_ name: String) -> Bool {
        name == retentionHeaderName || name == legalHoldHeaderName
    }

    /// The version's retention, expired or not; nil when it has none.
    public var retention: ObjectRetention? {
        get { headers.first { $0.name == Self.retentionHeaderName }.flatMap { ObjectRetention(storedForm: $0.value) } }
        set { headers = Self.headers(headers, setting: Self.retentionHeaderName, to: newValue?.storedForm) }
    }

    /// The version's legal hold: true ON, false OFF, nil never set.
    public var legalHold: Bool? {
        get { headers.first { $0.name == Self.legalHoldHeaderName }.map { $0.value == "ON" } }
        set {
            headers = Self.headers(headers, setting: Self.legalHoldHeaderName, to: newValue.map { $0 ? "ON" : "OFF" })
        }
    }

    /// Whether the version asks for any object lock (a retention or a legal hold, ON or OFF).
    public var hasLockSettings: Bool { headers.contains { Self.isLockHeaderName($0.name) } }

    /// `headers` without their object lock entries (what a copy starts from: S3 does not copy a source's
    /// retention or legal hold).
    public static func headersWithoutLock(_ headers: [HeaderField]) -> [HeaderField] {
        headers.filter { !isLockHeaderName($0.name) }
    }

    /// `headers` with their object lock entries replaced by those of `lock` (entries named as
    /// `retentionHeaderName` and `legalHoldHeaderName`), sorted by name.
    public static func headers(_ headers: [HeaderField], withLock lock: [HeaderField]) -> [HeaderField] {
        (headersWithoutLock(headers) + lock.filter { isLockHeaderName($0.name) })
            .sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// `headers` with the entry `name` replaced by `value` (nil: removed), sorted by name.
    package static func headers(_ headers: [HeaderField], setting name: String, to value: String?) -> [HeaderField] {
        var fields = headers.filter { $0.name != name }
        if let value { fields.append(HeaderField(name: name, value: value)) }
        return fields.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// Why this version may not be deleted at `time`, or nil when it may: a legal hold ON, a COMPLIANCE
    /// retention that holds, or a GOVERNANCE one that holds without `bypassGovernance`.
    package func deletionRefusal(at time: Int64, bypassGovernance: Bool) -> MetaError? {
        if legalHold == true { return .objectLocked("the object version is under legal hold") }
        guard let retention, retention.holds(at: time) else { return nil }
        switch retention.mode {
        case .compliance: return .objectLocked("the object version is under COMPLIANCE retention")
        case .governance where !bypassGovernance:
            return .objectLocked("the object version is under GOVERNANCE retention")
        case .governance: return nil
        }
    }
}

// MARK: Codec (commands, query results and `buckets.object_lock`)

extension ByteWriter {
    /// Format 5: 0 for nil (no object lock), else 1 then the default retention (0: none; 1 then the mode,
    /// a period tag, 1 days or 2 years, and the count).
    package mutating func write(_ configuration: ObjectLockConfiguration?) {
        guard let configuration else { return writeByte(0) }
        writeByte(1)
        guard let retention = configuration.defaultRetention else { return writeByte(0) }
        writeByte(1)
        writeByte(retention.mode.rawValue)
        switch retention.period {
        case .days(let count):
            writeByte(1)
            writeInt(count)
        case .years(let count):
            writeByte(2)
            writeInt(count)
        }
    }

    /// Format 5: 0 for nil (remove), else 1, the mode and the retain-until time.
    package mutating func write(_ retention: ObjectRetention?) {
        guard let retention else { return writeByte(0) }
        writeByte(1)
        writeByte(retention.mode.rawValue)
        writeInt(retention.retainUntil)
    }
}

extension ByteReader {
    package mutating func readObjectLockConfiguration() throws(MetaCodecError) -> ObjectLockConfiguration? {
        guard try readBool() else { return nil }
        guard try readBool() else { return ObjectLockConfiguration() }
        let mode = try readRetentionMode()
        let period: DefaultRetention.Period
        switch try readByte() {
        case 1: period = .days(try readInt())
        case 2: period = .years(try readInt())
        case let tag: throw .invalidTag(tag)
        }
        guard ObjectLockLimits.isValid(period) else { throw .invalidValue("default retention \(period)") }
        return ObjectLockConfiguration(defaultRetention: DefaultRetention(mode: mode, period: period))
    }

    package mutating func readRetention() throws(MetaCodecError) -> ObjectRetention? {
        guard try readBool() else { return nil }
        return ObjectRetention(mode: try readRetentionMode(), retainUntil: try readInt64())
    }

    private mutating func readRetentionMode() throws(MetaCodecError) -> RetentionMode {
        let raw = try readByte()
        guard let mode = RetentionMode(rawValue: raw) else { throw .invalidTag(raw) }
        return mode
    }
}
