import Foundation

// The AWS access policy language as S3 bucket policies use it: the document model and its parser.
// Pure: no I/O, no clock (the current time reaches conditions through the request context).

/// Why a policy document was refused; the Gateway answers `MalformedPolicy` with the reason.
public struct PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, for the client (AWS's wording where there is one).
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A bucket policy: a version and its statements.
public struct BucketPolicy: Sendable, Hashable {
    /// `2012-10-17` or `2008-10-17`.
    public var version: String
    public var statements: [PolicyStatement]

    /// The largest policy S3 accepts, in bytes.
    public static let documentBytesMax = 20 * 1024
}

/// One statement.
public struct PolicyStatement: Sendable, Hashable {
    public enum Effect: String, Sendable, Hashable { case allow = "Allow", deny = "Deny" }

    /// Who the statement is about: `Principal` (positive) or `NotPrincipal` (everyone else).
    public enum Principals: Sendable, Hashable {
        case only([PolicyPrincipalPattern])
        case allBut([PolicyPrincipalPattern])
    }

    /// A list of patterns (`Action`, `Resource`), positive or negated (`NotAction`, `NotResource`).
    public enum Patterns: Sendable, Hashable {
        case only([String])
        case allBut([String])
    }

    public var sid: String?
    public var effect: Effect
    public var principals: Principals
    public var actions: Patterns
    public var resources: Patterns
    /// Every condition must hold (operators and keys are ANDed).
    public var conditions: [PolicyCondition]
}

/// One principal as a policy names it.
public enum PolicyPrincipalPattern: Sendable, Hashable {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous requests included.
    case everyone
    /// `{"AWS": "…"}`: a user by name, id, canonical id or IAM-style ARN (`arn:aws:iam::…:user/NAME`).
    case aws(String)
    /// `{"CanonicalUser": "…"}`.
    case canonicalUser(String)
    /// `{"Service": "…"}` or `{"Federated": "…"}`: valid, and matches no Silo request.
    case service(String)
}

/// One condition: `"Operator": {"key": values}` for one key.
public struct PolicyCondition: Sendable, Hashable {
    public var condition: PolicyConditionOperator
    /// The context key as written (`aws:SourceIp`); matched case-insensitively.
    public var key: String
    public var values: [String]
}

extension BucketPolicy {
    /// Parses and validates a policy document for bucket `bucket`: JSON with `Version` (optional,
    /// `2012-10-17` or `2008-10-17`) and a non-empty `Statement` (one object or a list), each with an
    /// `Effect`, a `Principal` or `NotPrincipal`, an `Action` or `NotAction` (`s3:…` patterns or `*`), a
    /// `Resource` or `NotResource` naming this bucket or its objects, and an optional `Condition` whose
    /// operators are known.
    public static func parse(_ bytes: [UInt8], bucket: String) throws(PolicyError) -> BucketPolicy {
        guard !bytes.isEmpty else { throw PolicyError("Policies must be valid JSON and the first byte must be '{'") }
        guard bytes.count <= documentBytesMax else { throw PolicyError("Policies must be at most 20 KB") }
        guard String(validating: bytes, as: UTF8.self) != nil,
              bytes.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) == UInt8(ascii: "{"),
              let json = try? JSONDecoder().decode(PolicyJSON.self, from: Data(bytes)), case .object(let root) = json
        else { throw PolicyError("Policies must be valid JSON and the first byte must be '{'") }
        for key in root.keys where !["Version", "Id", "Statement"].contains(key) {
            throw PolicyError("Unknown field \(key.prefix(64))")
        }
        let version = root["Version"].map { $0.string } ?? "2008-10-17"
        guard let version, version == "2012-10-17" || version == "2008-10-17" else {
            throw PolicyError("The policy must contain a valid version string")
        }
        let statementValues: [PolicyJSON]
        switch root["Statement"] {
        case .array(let list): statementValues = list
        case .object(let single): statementValues = [.object(single)]
        default: throw PolicyError("Missing required field Statement")
        }
        guard !statementValues.isEmpty else { throw PolicyError("Could not parse the policy: Statement is empty!") }
        var statements: [PolicyStatement] = []
        for value in statementValues {
            guard case .object(let statement) = value else { throw PolicyError("A Statement must be an object") }
            statements.append(try parseStatement(statement, bucket: bucket))
        }
        return BucketPolicy(version: version, statements: statements)
    }

    private static func parseStatement(_ object: [String: PolicyJSON], bucket: String) throws(PolicyError) -> PolicyStatement {
        let known: Set<String> = ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                                  "NotResource", "Condition"]
        for key in object.keys where !known.contains(key) { throw PolicyError("Unknown field \(key.prefix(64))") }
        var sid: String?
        if let value = object["Sid"] {
            guard let text = value.string else { throw PolicyError("Sid must be a string") }
            sid = text
        }
        guard let effectText = object["Effect"]?.string, let effect = PolicyStatement.Effect(rawValue: effectText) else {
            throw PolicyError("Invalid effect: \((object["Effect"]?.string ?? "missing").prefix(32))")
        }
        let principals: PolicyStatement.Principals
        switch (object["Principal"], object["NotPrincipal"]) {
        case (let value?, nil): principals = .only(try parsePrincipals(value))
        case (nil, let value?): principals = .allBut(try parsePrincipals(value))
        case (nil, nil): throw PolicyError("Missing required field Principal")
        case (.some, .some): throw PolicyError("A Statement has both Principal and NotPrincipal")
        }
        let actions = try patterns(object, "Action", "NotAction")
        for action in actions.list {
            let lowered = action.lowercased()
            guard lowered == "*" || lowered.hasPrefix("s3:") else { throw PolicyError("Policy has invalid action") }
        }
        let resources = try patterns(object, "Resource", "NotResource")
        // Every resource must be able to name this bucket or its objects: its bucket part (before any
        // `/`) matches the bucket's name, wildcards included (`arn:aws:s3:::*/*`).
        for resource in resources.list where resource != "*" {
            guard resource.hasPrefix("arn:aws:s3:::"),
                  let bucketPart = resource.dropFirst("arn:aws:s3:::".count).split(separator: "/", maxSplits: 1,
                                                                                  omittingEmptySubsequences: false).first,
                  PolicyWildcard.matches(pattern: String(bucketPart), bucket)
            else { throw PolicyError("Policy has invalid resource") }
        }
        if effect == .allow, case .allBut = principals {
            throw PolicyError("Allow with NotPrincipal is not supported")
        }
        return PolicyStatement(sid: sid, effect: effect, principals: principals, actions: actions.patterns,
                               resources: resources.patterns, conditions: try parseConditions(object["Condition"]))
    }

    private static func parsePrincipals(_ value: PolicyJSON) throws(PolicyError) -> [PolicyPrincipalPattern] {
        if let text = value.string {
            guard text == "*" else { throw PolicyError("Invalid principal in policy") }
            return [.everyone]
        }
        guard case .object(let map) = value, !map.isEmpty else { throw PolicyError("Invalid principal in policy") }
        var patterns: [PolicyPrincipalPattern] = []
        for (kind, names) in map.sorted(by: { $0.key < $1.key }) {
            let list = try strings(names, field: "Principal")
            for name in list {
                switch kind {
                case "AWS": patterns.append(name == "*" ? .everyone : .aws(name))
                case "CanonicalUser": patterns.append(.canonicalUser(name))
                // AWS services (log delivery and the like) are valid principals that no Silo request is.
                case "Service", "Federated": patterns.append(.service(name))
                default: throw PolicyError("Invalid principal in policy")
                }
            }
        }
        return patterns
    }

    private static func patterns(_ object: [String: PolicyJSON], _ positive: String, _ negative: String)
        throws(PolicyError) -> (patterns: PolicyStatement.Patterns, list: [String])
    {
        switch (object[positive], object[negative]) {
        case (let value?, nil):
            let list = try strings(value, field: positive)
            return (.only(list), list)
        case (nil, let value?):
            let list = try strings(value, field: negative)
            return (.allBut(list), list)
        case (nil, nil): throw PolicyError("Missing required field \(positive)")
        case (.some, .some): throw PolicyError("A Statement has both \(positive) and \(negative)")
        }
    }

    private static func parseConditions(_ value: PolicyJSON?) throws(PolicyError) -> [PolicyCondition] {
        guard let value else { return [] }
        guard case .object(let map) = value else { throw PolicyError("Condition must be an object") }
        var conditions: [PolicyCondition] = []
        for (name, keys) in map.sorted(by: { $0.key < $1.key }) {
            guard let condition = PolicyConditionOperator(name) else {
                throw PolicyError("Invalid Condition type : \(name.prefix(64))")
            }
            guard case .object(let keyMap) = keys, !keyMap.isEmpty else {
                throw PolicyError("Condition \(name.prefix(64)) needs a key and values")
            }
            for (key, values) in keyMap.sorted(by: { $0.key < $1.key }) {
                conditions.append(PolicyCondition(condition: condition, key: key,
                                                  values: try scalars(values, field: "Condition")))
            }
        }
        return conditions
    }

    /// A string or a non-empty list of strings.
    private static func strings(_ value: PolicyJSON, field: String) throws(PolicyError) -> [String] {
        if let text = value.string { return [text] }
        guard case .array(let list) = value, !list.isEmpty else { throw PolicyError("\(field) must be a string or a list") }
        var texts: [String] = []
        for item in list {
            guard let text = item.string else { throw PolicyError("\(field) must be a string or a list") }
            texts.append(text)
        }
        return texts
    }

    /// Condition values: strings, numbers and booleans (as their text), alone or in a list.
    private static func scalars(_ value: PolicyJSON, field: String) throws(PolicyError) -> [String] {
        func text(_ item: PolicyJSON) throws(PolicyError) -> String {
            switch item {
            case .string(let text), .number(let text): return text
            case .bool(let flag): return flag ? "true" : "false"
            case .null, .array, .object: throw PolicyError("\(field) values must be strings, numbers or booleans")
            }
        }
        if case .array(let list) = value {
            guard !list.isEmpty else { throw PolicyError("\(field) values must not be empty") }
            var texts: [String] = []
            for item in list { texts.append(try text(item)) }
            return texts
        }
        return [try text(value)]
    }
}

/// A JSON value as a policy document holds it; numbers keep their text form (`10`, not `10.0`).
enum PolicyJSON: Decodable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([PolicyJSON])
    case object([String: PolicyJSON])

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var items: [PolicyJSON] = []
            while !list.isAtEnd { items.append(try list.decode(PolicyJSON.self)) }
            self = .array(items)
            return
        }
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var map: [String: PolicyJSON] = [:]
            for key in keyed.allKeys { map[key.stringValue] = try keyed.decode(PolicyJSON.self, forKey: key) }
            self = .object(map)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? single.decode(Int64.self) {
            self = .number(String(integer))
        } else if let number = try? single.decode(Double.self) {
            self = .number(String(number))
        } else {
            self = .string(try single.decode(String.self))
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// `*` (any run, `/` included) and `?` (one character) matching, as IAM matches actions and resources.
public enum PolicyWildcard {
    public static func matches(pattern: String, _ text: String, ignoringCase: Bool = false) -> Bool {
        let p = Array(ignoringCase ? pattern.lowercased().unicodeScalars : pattern.unicodeScalars)
        let t = Array(ignoringCase ? text.lowercased().unicodeScalars : text.unicodeScalars)
        // Iterative matching with one backtrack point: linear in practice, no recursion depth to exhaust.
        var pi = 0, ti = 0
        var star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
