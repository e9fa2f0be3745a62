import Foundation

/// A condition operator (`StringLike`, `IpAddress`, `NumericLessThanIfExists`,
/// `ForAnyValue:StringEquals`…): a base comparison, whether a missing key passes (`…IfExists`), and the set
/// qualifier for multi-valued keys.
public struct PolicyConditionOperator: Sendable, Hashable {
    public enum Base: String, Sendable, Hashable, CaseIterable {
        case stringEquals = "StringEquals", stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase", stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
        case stringLike = "StringLike", stringNotLike = "StringNotLike"
        case numericEquals = "NumericEquals", numericNotEquals = "NumericNotEquals"
        case numericLessThan = "NumericLessThan", numericLessThanEquals = "NumericLessThanEquals"
        case numericGreaterThan = "NumericGreaterThan", numericGreaterThanEquals = "NumericGreaterThanEquals"
        case dateEquals = "DateEquals", dateNotEquals = "DateNotEquals"
        case dateLessThan = "DateLessThan", dateLessThanEquals = "DateLessThanEquals"
        case dateGreaterThan = "DateGreaterThan", dateGreaterThanEquals = "DateGreaterThanEquals"
        case bool = "Bool"
        case ipAddress = "IpAddress", notIpAddress = "NotIpAddress"
        case arnEquals = "ArnEquals", arnNotEquals = "ArnNotEquals", arnLike = "ArnLike", arnNotLike = "ArnNotLike"
        case null = "Null"

        /// Negated operators hold when no request value matches; they also hold for a missing key.
        var isNegated: Bool {
            switch self {
            case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals, .dateNotEquals,
                 .notIpAddress, .arnNotEquals, .arnNotLike:
                return true
            default:
                return false
            }
        }
    }

    public enum SetQualifier: Sendable, Hashable { case none, forAnyValue, forAllValues }

    public var base: Base
    public var ifExists: Bool
    public var qualifier: SetQualifier

    /// Parses an operator name; nil for an unknown one (the policy is then malformed).
    public init?(_ name: String) {
        var rest = Substring(name)
        qualifier = .none
        if rest.hasPrefix("ForAnyValue:") {
            qualifier = .forAnyValue
            rest = rest.dropFirst("ForAnyValue:".count)
        } else if rest.hasPrefix("ForAllValues:") {
            qualifier = .forAllValues
            rest = rest.dropFirst("ForAllValues:".count)
        }
        ifExists = rest.hasSuffix("IfExists")
        if ifExists { rest = rest.dropLast("IfExists".count) }
        guard let base = Base(rawValue: String(rest)), !(ifExists && base == .null) else { return nil }
        self.base = base
    }

    /// Whether `condition` holds for the request's `context` (lower-cased key names).
    static func holds(_ condition: PolicyCondition, context: [String: [String]]) -> Bool {
        let op = condition.condition
        let present = context[condition.key.lowercased()]
        if op.base == .null {
            // "Null": "true" — the key must be absent; "false" — present.
            let wantsAbsent = condition.values.contains { $0.lowercased() == "true" }
            return wantsAbsent == (present == nil || present!.isEmpty)
        }
        guard let requestValues = present, !requestValues.isEmpty else {
            if op.ifExists { return true }
            if op.qualifier == .forAllValues { return true }
            return op.base.isNegated
        }
        let policyValues = condition.values.map { PolicyEvaluator.substitute($0, context) }
        func positiveMatch(_ value: String) -> Bool {
            policyValues.contains { matches(op.base, requestValue: value, policyValue: $0) }
        }
        switch op.qualifier {
        case .forAllValues:
            // Every request value matches (for a negated operator: none matches).
            return requestValues.allSatisfy { op.base.isNegated ? !positiveMatch($0) : positiveMatch($0) }
        case .none, .forAnyValue:
            if op.base.isNegated { return !requestValues.contains(where: positiveMatch) }
            return requestValues.contains(where: positiveMatch)
        }
    }

    /// The positive comparison of the operator (a negated operator's own comparison, un-negated).
    static func matches(_ base: Base, requestValue: String, policyValue: String) -> Bool {
        switch base {
        case .stringEquals, .stringNotEquals: return requestValue == policyValue
        case .stringEqualsIgnoreCase, .stringNotEqualsIgnoreCase: return requestValue.lowercased() == policyValue.lowercased()
        case .stringLike, .stringNotLike, .arnLike, .arnNotLike:
            return PolicyWildcard.matches(pattern: policyValue, requestValue)
        case .arnEquals, .arnNotEquals: return requestValue == policyValue
        case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
             .numericGreaterThanEquals:
            guard let left = Double(requestValue), let right = Double(policyValue), left.isFinite, right.isFinite
            else { return false }
            return compare(base, left, right)
        case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            guard let left = PolicyDate.seconds(requestValue), let right = PolicyDate.seconds(policyValue) else {
                return false
            }
            return compare(base, left, right)
        case .bool: return requestValue.lowercased() == policyValue.lowercased()
        case .ipAddress, .notIpAddress:
            guard let block = CIDRBlock(policyValue), let address = IPAddressBytes.parse(requestValue) else {
                return false
            }
            return block.contains(address)
        case .null: return false
        }
    }

    private static func compare(_ base: Base, _ left: Double, _ right: Double) -> Bool {
        switch base {
        case .numericEquals, .numericNotEquals, .dateEquals, .dateNotEquals: return left == right
        case .numericLessThan, .dateLessThan: return left < right
        case .numericLessThanEquals, .dateLessThanEquals: return left <= right
        case .numericGreaterThan, .dateGreaterThan: return left > right
        case .numericGreaterThanEquals, .dateGreaterThanEquals: return left >= right
        default: return false
        }
    }
}

/// Dates in conditions: ISO 8601 (`2026-12-01T12:00:00Z`, with or without fractional seconds, or a bare
/// date) or epoch seconds.
enum PolicyDate {
    static func seconds(_ text: String) -> Double? {
        if text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), text.utf8.count <= 12, let value = Double(text) {
            return value
        }
        let formats = ["yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX", "yyyy-MM-dd'T'HH:mmXXXXX",
                       "yyyy-MM-dd"]
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date.timeIntervalSince1970 }
        }
        return nil
    }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
struct IPAddressBytes: Hashable {
    var bytes: [UInt8]

    static func parse(_ text: String) -> IPAddressBytes? {
        if text.contains(":") { return parseIPv6(text) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count), part.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return IPAddressBytes(bytes: bytes)
    }

    private static func parseIPv6(_ text: String) -> IPAddressBytes? {
        // An IPv4-mapped tail (`::ffff:1.2.3.4`) is read as its IPv4 address.
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains("."),
           text.lowercased().hasPrefix("::ffff:") {
            return parse(String(text[text.index(after: lastColon)...]))
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var values: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                values.append(value)
            }
            return values
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return IPAddressBytes(bytes: all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
    }
}

/// `203.0.113.0/24`, `2001:db8::/32`, or one address (all bits).
struct CIDRBlock: Hashable {
    var network: IPAddressBytes
    var prefixBits: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let first = parts.first, let address = IPAddressBytes.parse(String(first)) else { return nil }
        let maxBits = address.bytes.count * 8
        var bits = maxBits
        if parts.count == 2 {
            guard parts[1].utf8.count <= 3, parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let value = Int(parts[1]), value <= maxBits else { return nil }
            bits = value
        }
        network = address
        prefixBits = bits
    }

    func contains(_ address: IPAddressBytes) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixBits
        for index in 0..<address.bytes.count where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if address.bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= take
        }
        return true
    }
}
