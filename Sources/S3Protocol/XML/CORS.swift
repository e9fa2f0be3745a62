// A bucket's CORS configuration: the `CORSConfiguration` document with AWS's validation, the canonical
// XML the metadata stores and GetBucketCors returns, and the rule matching a browser's request.

/// Why a CORS configuration was refused. The Gateway maps `.malformedXML` to `MalformedXML` and
/// `.invalidRequest` to `InvalidRequest`, as S3 answers them.
public enum CORSConfigurationError: Error, Sendable, Hashable {
    /// Not a `CORSConfiguration` with 1 to 100 `CORSRule`s, each with an `AllowedMethod` and an
    /// `AllowedOrigin`; a `MaxAgeSeconds` that is no integer; an `ID` too long.
    case malformedXML(reason: String)
    /// A method other than GET, PUT, POST, DELETE, HEAD; an origin or header with more than one `*`; a
    /// wildcard in an `ExposeHeader`. `reason` is AWS's message.
    case invalidRequest(reason: String)
}

/// A bucket's CORS rules, in document order (the first matching rule answers).
public struct CORSConfiguration: Sendable, Hashable {
    /// One `CORSRule`.
    public struct Rule: Sendable, Hashable {
        public var id: String?
        /// Upper-case HTTP methods among `CORSConfiguration.methods`.
        public var allowedMethods: [String]
        /// Origins, each with at most one `*`.
        public var allowedOrigins: [String]
        /// Request headers a preflight may name, each with at most one `*`; compared case-insensitively.
        public var allowedHeaders: [String]
        /// Response headers the browser may expose to scripts.
        public var exposeHeaders: [String]
        public var maxAgeSeconds: Int?

        /// Creates a rule.
        public init(id: String? = nil, allowedMethods: [String], allowedOrigins: [String],
                    allowedHeaders: [String] = [], exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil) {
            self.id = id
            self.allowedMethods = allowedMethods
            self.allowedOrigins = allowedOrigins
            self.allowedHeaders = allowedHeaders
            self.exposeHeaders = exposeHeaders
            self.maxAgeSeconds = maxAgeSeconds
        }

        /// The allowed origin `origin` matches (the first), if any.
        public func matchingOrigin(_ origin: String) -> String? {
            allowedOrigins.first { CORSConfiguration.wildcardMatches($0, origin, ignoringCase: false) }
        }

        /// Whether every requested header is allowed (case-insensitively, with wildcards).
        public func allowsHeaders(_ headers: [String]) -> Bool {
            headers.allSatisfy { header in
                allowedHeaders.contains { CORSConfiguration.wildcardMatches($0, header, ignoringCase: true) }
            }
        }
    }

    /// The methods a rule may allow (AWS: no others).
    public static let methods: Set<String> = ["GET", "PUT", "POST", "DELETE", "HEAD"]

    public var rules: [Rule]

    /// Creates a configuration (unvalidated; `parse` validates).
    public init(rules: [Rule]) { self.rules = rules }

    /// The first rule allowing `method` from `origin` with every header in `requestHeaders`, and the
    /// allowed origin that matched.
    public func match(origin: String, method: String, requestHeaders: [String]) -> (rule: Rule, origin: String)? {
        for rule in rules where rule.allowedMethods.contains(method) {
            if let allowed = rule.matchingOrigin(origin), rule.allowsHeaders(requestHeaders) {
                return (rule, allowed)
            }
        }
        return nil
    }

    /// Parses and validates a `CORSConfiguration` document.
    public static func parse(_ body: [UInt8]) throws(CORSConfigurationError) -> CORSConfiguration {
        let root: XMLElementNode
        do {
            root = try XMLTree.parse(body, rootName: "CORSConfiguration")
        } catch {
            throw .malformedXML(reason: "\(error)")
        }
        let nodes = root.children("CORSRule")
        guard !nodes.isEmpty else { throw .malformedXML(reason: "no CORSRule") }
        guard nodes.count <= S3Limits.corsRuleCountMax else {
            throw .malformedXML(reason: "more than \(S3Limits.corsRuleCountMax) CORSRules")
        }
        return CORSConfiguration(rules: try nodes.map { node throws(CORSConfigurationError) in try parseRule(node) })
    }

    private static func parseRule(_ node: XMLElementNode) throws(CORSConfigurationError) -> Rule {
        func texts(_ name: String) -> [String] { node.children(name).map { String($0.text.trimmingSpaces()) } }
        let methods = texts("AllowedMethod")
        let origins = texts("AllowedOrigin")
        guard !methods.isEmpty, !origins.isEmpty else {
            throw .malformedXML(reason: "a CORSRule needs an AllowedMethod and an AllowedOrigin")
        }
        for method in methods where !Self.methods.contains(method) {
            throw .invalidRequest(reason: "Found unsupported HTTP method in CORS config. Unsupported method is \(method.prefix(32))")
        }
        for origin in origins where origin.count(where: { $0 == "*" }) > 1 {
            throw .invalidRequest(reason: "AllowedOrigin \"\(origin.prefix(256))\" can not have more than one wildcard.")
        }
        let headers = texts("AllowedHeader")
        for header in headers where header.count(where: { $0 == "*" }) > 1 {
            throw .invalidRequest(reason: "AllowedHeader \"\(header.prefix(256))\" can not have more than one wildcard.")
        }
        let exposed = texts("ExposeHeader")
        for header in exposed where header.contains("*") {
            throw .invalidRequest(reason: "ExposeHeader \"\(header.prefix(256))\" contains wildcard. We currently do not support wildcard for ExposeHeader.")
        }
        let id = node.child("ID").map { String($0.text.trimmingSpaces()) }
        if let id, id.count > S3Limits.corsRuleIDCharactersMax {
            throw .malformedXML(reason: "a CORSRule ID is longer than \(S3Limits.corsRuleIDCharactersMax) characters")
        }
        var maxAge: Int?
        if let text = node.child("MaxAgeSeconds").map({ String($0.text.trimmingSpaces()) }) {
            guard !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let seconds = Int(text), seconds <= S3Limits.queryIntegerMax
            else { throw .malformedXML(reason: "MaxAgeSeconds must be a non-negative integer") }
            maxAge = seconds
        }
        return Rule(id: id, allowedMethods: methods, allowedOrigins: origins, allowedHeaders: headers,
                    exposeHeaders: exposed, maxAgeSeconds: maxAge)
    }

    /// The canonical document: what the metadata stores and GetBucketCors returns.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("CORSConfiguration", namespace: XMLWriter.s3Namespace) { writer in
            for rule in rules {
                writer.element("CORSRule") { writer in
                    writer.element("ID", ifPresent: rule.id)
                    for header in rule.allowedHeaders { writer.element("AllowedHeader", header) }
                    for method in rule.allowedMethods { writer.element("AllowedMethod", method) }
                    for origin in rule.allowedOrigins { writer.element("AllowedOrigin", origin) }
                    for header in rule.exposeHeaders { writer.element("ExposeHeader", header) }
                    if let seconds = rule.maxAgeSeconds { writer.element("MaxAgeSeconds", seconds) }
                }
            }
        }
        return writer.finish()
    }

    /// `pattern` with at most one `*` (any run of characters, the empty one included) against `text`.
    static func wildcardMatches(_ pattern: String, _ text: String, ignoringCase: Bool) -> Bool {
        let pattern = ignoringCase ? pattern.lowercased() : pattern
        let text = ignoringCase ? text.lowercased() : text
        guard let star = pattern.firstIndex(of: "*") else { return pattern == text }
        let prefix = pattern[..<star]
        let suffix = pattern[pattern.index(after: star)...]
        return text.count >= prefix.count + suffix.count && text.hasPrefix(prefix) && text.hasSuffix(suffix)
    }
}
