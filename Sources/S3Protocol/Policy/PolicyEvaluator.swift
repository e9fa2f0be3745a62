// Evaluating a bucket policy for one request. Pure: the request, its principal and every context value
// (time, source address, headers) are inputs.

/// Who makes a request, as a policy's `Principal` matches it.
public enum PolicyPrincipal: Sendable, Hashable {
    case anonymous
    /// A user: its immutable id, name and canonical id.
    case user(id: String, name: String, canonicalID: String)
}

/// What a policy is asked about.
public struct PolicyRequest: Sendable {
    public var principal: PolicyPrincipal
    /// `s3:GetObject`.
    public var action: String
    /// `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`.
    public var resource: String
    /// Condition keys (lower-cased names) → their values; a key absent here is absent from the request.
    public var context: [String: [String]]

    public init(principal: PolicyPrincipal, action: String, resource: String, context: [String: [String]]) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.context = Dictionary(context.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
    }
}

/// The outcome of a policy for a request.
public enum PolicyDecision: Sendable, Hashable {
    /// A matching Deny statement: refused whatever else allows it.
    case deny
    /// A matching Allow statement and no matching Deny.
    case allow
    /// No statement matches: the ACLs decide.
    case notApplicable
}

/// The evaluation logic of the AWS policy language: a statement applies when its principal, action,
/// resource and every condition match; an explicit Deny wins over any Allow.
public enum PolicyEvaluator {
    public static func evaluate(_ policy: BucketPolicy, request: PolicyRequest) -> PolicyDecision {
        var allowed = false
        for statement in policy.statements where applies(statement, to: request) {
            if statement.effect == .deny { return .deny }
            allowed = true
        }
        return allowed ? .allow : .notApplicable
    }

    static func applies(_ statement: PolicyStatement, to request: PolicyRequest) -> Bool {
        let principalMatches: Bool
        switch statement.principals {
        case .only(let patterns): principalMatches = patterns.contains { matches($0, request.principal) }
        case .allBut(let patterns): principalMatches = !patterns.contains { matches($0, request.principal) }
        }
        guard principalMatches else { return false }
        guard matches(statement.actions, request.action, ignoringCase: true, context: request.context) else { return false }
        guard matches(statement.resources, request.resource, ignoringCase: false, context: request.context) else {
            return false
        }
        return statement.conditions.allSatisfy { PolicyConditionOperator.holds($0, context: request.context) }
    }

    static func matches(_ pattern: PolicyPrincipalPattern, _ principal: PolicyPrincipal) -> Bool {
        switch (pattern, principal) {
        case (.everyone, _): return true
        case (.service, _): return false
        case (_, .anonymous): return false
        case (.canonicalUser(let id), .user(_, _, let canonicalID)): return id.lowercased() == canonicalID
        case (.aws(let name), .user(let id, let userName, let canonicalID)):
            if name == id || name == userName || name.lowercased() == canonicalID { return true }
            // arn:aws:iam::ACCOUNT:user/NAME (any account: Silo has one).
            if name.hasPrefix("arn:aws:iam:"), let slash = name.range(of: ":user/") {
                return PolicyWildcard.matches(pattern: String(name[slash.upperBound...]), userName)
            }
            return false
        }
    }

    static func matches(_ patterns: PolicyStatement.Patterns, _ value: String, ignoringCase: Bool,
                        context: [String: [String]]) -> Bool {
        func any(_ list: [String]) -> Bool {
            list.contains { PolicyWildcard.matches(pattern: substitute($0, context), value, ignoringCase: ignoringCase) }
        }
        switch patterns {
        case .only(let list): return any(list)
        case .allBut(let list): return !any(list)
        }
    }

    /// Policy variables: `${aws:username}` and other context keys by name (first value), `${*}`, `${?}`
    /// and `${$}` for the literal characters. An unknown variable matches nothing (it is kept as is, and
    /// `$` never appears in a request's resource or action from Silo's own requests).
    static func substitute(_ text: String, _ context: [String: [String]]) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                result += rest[start.lowerBound...]
                return result
            }
            let name = String(rest[start.upperBound..<end])
            switch name {
            case "*", "?", "$": result += name
            default:
                if let value = context[name.lowercased()]?.first { result += value } else { result += "${" + name + "}" }
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}

extension BucketPolicy {
    /// Whether the policy makes its bucket public, as GetBucketPolicyStatus reports it: an Allow statement
    /// for everyone (`*`), or for everyone but some (`NotPrincipal`), whose conditions do not pin the
    /// request to particular sources (`aws:SourceIp`, `aws:SourceVpc*`, `aws:PrincipalAccount`…).
    public var isPublic: Bool {
        statements.contains { statement in
            guard statement.effect == .allow else { return false }
            let open: Bool
            switch statement.principals {
            case .only(let patterns): open = patterns.contains(.everyone)
            case .allBut: open = true
            }
            guard open else { return false }
            let pinning: Set<String> = ["aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:principalaccount",
                                        "aws:principalarn", "aws:userid", "aws:username", "aws:sourcearn",
                                        "aws:sourceaccount", "aws:principalorgid"]
            return !statement.conditions.contains { condition in
                pinning.contains(condition.key.lowercased()) && !condition.condition.base.isNegated
            }
        }
    }
}
