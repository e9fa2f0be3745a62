import Foundation

/// The two retention modes as S3 spells them (case-sensitive: `governance` is malformed).
private let retentionModes: Set<String> = ["GOVERNANCE", "COMPLIANCE"]

private func text(_ node: XMLElementNode?) -> String? {
    node.map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// `PutObjectLockConfiguration` body / `GetObjectLockConfiguration` answer. Structure is checked here
/// (MalformedXML, as S3 answers it); the period's range is the Gateway's to check (InvalidRetentionPeriod).
public struct ObjectLockConfigurationDocument: Sendable, Hashable {
    /// The optional `Rule`'s default retention.
    public struct DefaultRetention: Sendable, Hashable {
        /// `GOVERNANCE` or `COMPLIANCE`.
        public var mode: String
        /// Exactly one of `days` and `years` is set.
        public var days: Int?
        public var years: Int?
        public init(mode: String, days: Int?, years: Int?) {
            self.mode = mode
            self.days = days
            self.years = years
        }
    }

    public var defaultRetention: DefaultRetention?

    public init(defaultRetention: DefaultRetention?) {
        self.defaultRetention = defaultRetention
    }

    /// Parses `<ObjectLockConfiguration>`: `ObjectLockEnabled` must be `Enabled` (the only state S3 has);
    /// a `Rule` must hold a `DefaultRetention` with a valid `Mode` and exactly one of integer `Days` and
    /// `Years`.
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> ObjectLockConfigurationDocument {
        let root = try XMLTree.parse(body, rootName: "ObjectLockConfiguration")
        guard text(root.child("ObjectLockEnabled")) == "Enabled" else {
            throw .malformedXML(reason: "ObjectLockEnabled must be Enabled")
        }
        guard let rule = root.child("Rule") else { return ObjectLockConfigurationDocument(defaultRetention: nil) }
        guard let retention = rule.child("DefaultRetention") else {
            throw .malformedXML(reason: "a Rule needs a DefaultRetention")
        }
        guard let mode = text(retention.child("Mode")), retentionModes.contains(mode) else {
            throw .malformedXML(reason: "Mode must be GOVERNANCE or COMPLIANCE")
        }
        func integer(_ name: String) throws(XMLRequestError) -> Int? {
            guard let value = text(retention.child(name)) else { return nil }
            guard let number = Int(value) else { throw .malformedXML(reason: "\(name) must be an integer") }
            return number
        }
        let days = try integer("Days")
        let years = try integer("Years")
        guard (days == nil) != (years == nil) else {
            throw .malformedXML(reason: "a DefaultRetention needs exactly one of Days and Years")
        }
        return ObjectLockConfigurationDocument(
            defaultRetention: DefaultRetention(mode: mode, days: days, years: years))
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("ObjectLockConfiguration", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("ObjectLockEnabled", "Enabled")
            if let retention = defaultRetention {
                writer.element("Rule") { writer in
                    writer.element("DefaultRetention") { writer in
                        writer.element("Mode", retention.mode)
                        if let days = retention.days { writer.element("Days", String(days)) }
                        if let years = retention.years { writer.element("Years", String(years)) }
                    }
                }
            }
        }
        return writer.finish()
    }
}

/// `PutObjectRetention` body / `GetObjectRetention` answer. A body with neither `Mode` nor
/// `RetainUntilDate` asks to remove the retention; one with only one of them is malformed.
public struct RetentionDocument: Sendable, Hashable {
    /// `GOVERNANCE` or `COMPLIANCE`; nil (with `retainUntil`): no retention.
    public var mode: String?
    /// Ms since the Unix epoch; nil exactly when `mode` is.
    public var retainUntil: Int64?

    public init(mode: String, retainUntil: Int64) {
        self.mode = mode
        self.retainUntil = retainUntil
    }

    /// No retention.
    public init() {}

    /// Parses `<Retention>`.
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> RetentionDocument {
        let root = try XMLTree.parse(body, rootName: "Retention")
        let mode = text(root.child("Mode"))
        let date = text(root.child("RetainUntilDate"))
        switch (mode, date) {
        case (nil, nil):
            return RetentionDocument()
        case (let mode?, let date?):
            guard retentionModes.contains(mode) else {
                throw .malformedXML(reason: "Mode must be GOVERNANCE or COMPLIANCE")
            }
            guard let until = S3Time.parseISO8601(date) else {
                throw .malformedXML(reason: "RetainUntilDate must be an ISO 8601 date")
            }
            return RetentionDocument(mode: mode, retainUntil: until)
        default:
            throw .malformedXML(reason: "a Retention needs both Mode and RetainUntilDate")
        }
    }

    /// The XML document (`Mode`, `RetainUntilDate` in ISO 8601 with milliseconds).
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("Retention", namespace: XMLWriter.s3Namespace) { writer in
            if let mode, let retainUntil {
                writer.element("Mode", mode)
                writer.element("RetainUntilDate", S3Time.iso8601(milliseconds: retainUntil))
            }
        }
        return writer.finish()
    }
}

/// `PutObjectLegalHold` body / `GetObjectLegalHold` answer: `Status` `ON` or `OFF`.
public struct LegalHoldDocument: Sendable, Hashable {
    public var isOn: Bool

    public init(isOn: Bool) {
        self.isOn = isOn
    }

    /// Parses `<LegalHold>`; any status but `ON` and `OFF` is malformed.
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> LegalHoldDocument {
        let root = try XMLTree.parse(body, rootName: "LegalHold")
        switch text(root.child("Status")) {
        case "ON": return LegalHoldDocument(isOn: true)
        case "OFF": return LegalHoldDocument(isOn: false)
        default: throw .malformedXML(reason: "Status must be ON or OFF")
        }
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("LegalHold", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Status", isOn ? "ON" : "OFF")
        }
        return writer.finish()
    }
}
