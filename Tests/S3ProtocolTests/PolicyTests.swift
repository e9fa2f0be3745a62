import Testing

@testable import S3Protocol

/// Goal: the policy language parsed and evaluated as AWS documents it, as data: each row is a policy, a
/// request and the decision (allow, deny, not applicable). Rows include the examples of the S3 user
/// guide's "Bucket policy examples" (public read, IP restriction, Referer, deny unless TLS, prefix
/// listing) and the evaluation rules (explicit deny wins, NotPrincipal/NotAction/NotResource, missing
/// keys, IfExists, set qualifiers). A second table holds malformed documents and their refusal.
@Suite struct PolicyTests {
    static let bucket = "photos"
    static let alice = PolicyPrincipal.user(id: "u:alice", name: "alice", canonicalID: String(repeating: "a", count: 64))
    static let bob = PolicyPrincipal.user(id: "u:bob", name: "bob", canonicalID: String(repeating: "b", count: 64))

    struct Row: CustomStringConvertible {
        var name: String
        var policy: String
        var principal: PolicyPrincipal
        var action: String
        var resource: String
        var context: [String: [String]] = [:]
        var expected: PolicyDecision
        var description: String { name }
    }

    static func statement(_ body: String) -> String {
        "{\"Version\":\"2012-10-17\",\"Statement\":[\(body)]}"
    }

    static let publicRead = statement("""
        {"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:GetObjectVersion"],
         "Resource":["arn:aws:s3:::photos/*"]}
        """)
    static let publicPrefixWithDeny = statement("""
        {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/public/*"},
        {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/public/secret*"}
        """)
    static let ipRestricted = statement("""
        {"Sid":"IPAllow","Effect":"Deny","Principal":"*","Action":"s3:*",
         "Resource":["arn:aws:s3:::photos","arn:aws:s3:::photos/*"],
         "Condition":{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}
        """)
    static let referer = statement("""
        {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*",
         "Condition":{"StringLike":{"aws:Referer":["http://www.example.com/*","http://example.com/*"]}}}
        """)
    static let tlsOnly = statement("""
        {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::photos/*",
         "Condition":{"Bool":{"aws:SecureTransport":"false"}}}
        """)
    static let homePrefix = statement("""
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"s3:ListBucket",
         "Resource":"arn:aws:s3:::photos","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}},
        {"Effect":"Allow","Principal":{"AWS":["bob"]},"Action":["s3:GetObject","s3:PutObject"],
         "Resource":"arn:aws:s3:::photos/home/${aws:username}/*"}
        """)
    static let notPrincipal = statement("""
        {"Effect":"Deny","NotPrincipal":{"AWS":"alice"},"NotAction":"s3:Get*","Resource":"arn:aws:s3:::photos/*"}
        """)
    static let maxKeys = statement("""
        {"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos",
         "Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"},"StringEquals":{"s3:delimiter":"/"}}}
        """)
    static let ifExists = statement("""
        {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::photos/*",
         "Condition":{"StringNotEqualsIfExists":{"s3:x-amz-acl":"private"}}}
        """)
    static let nullAndDates = statement("""
        {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*",
         "Condition":{"Null":{"aws:username":"false"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}
        """)
    static let canonicalAndArn = statement("""
        {"Effect":"Allow","Principal":{"CanonicalUser":"\(String(repeating: "b", count: 64))"},"Action":"S3:getobject",
         "NotResource":"arn:aws:s3:::photos/private/*"},
        {"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::photos",
         "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::photos*"},"ForAnyValue:StringEquals":{"s3:prefix":["a","b"]}}}
        """)

    static let service = statement("""
        {"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject",
         "Resource":"arn:aws:s3:::*/*"}
        """)

    static let rows: [Row] = [
        Row(name: "service principal: valid, matches no request", policy: service, principal: alice,
            action: "s3:PutObject", resource: "arn:aws:s3:::photos/log", expected: .notApplicable),
        Row(name: "public read: anonymous GetObject", policy: publicRead, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/cat.jpg", expected: .allow),
        Row(name: "public read: PutObject not named", policy: publicRead, principal: .anonymous, action: "s3:PutObject",
            resource: "arn:aws:s3:::photos/cat.jpg", expected: .notApplicable),
        Row(name: "public read: bucket resource not named", policy: publicRead, principal: alice, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos", expected: .notApplicable),
        Row(name: "prefix allow", policy: publicPrefixWithDeny, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/public/a.png", expected: .allow),
        Row(name: "explicit deny wins", policy: publicPrefixWithDeny, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/public/secret.txt", expected: .deny),
        Row(name: "deny wins for a user too", policy: publicPrefixWithDeny, principal: alice, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/public/secret.txt", expected: .deny),
        Row(name: "outside the prefix", policy: publicPrefixWithDeny, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/private/a.png", expected: .notApplicable),
        Row(name: "IP: outside the block is denied", policy: ipRestricted, principal: alice, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos", context: ["aws:SourceIp": ["198.51.100.7"]], expected: .deny),
        Row(name: "IP: inside the block", policy: ipRestricted, principal: alice, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos", context: ["aws:SourceIp": ["192.0.2.200"]], expected: .notApplicable),
        Row(name: "IP: no source address (negated operator, missing key holds)", policy: ipRestricted, principal: alice,
            action: "s3:GetObject", resource: "arn:aws:s3:::photos/k", expected: .deny),
        Row(name: "Referer matches", policy: referer, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/k", context: ["aws:Referer": ["http://www.example.com/page"]], expected: .allow),
        Row(name: "Referer differs", policy: referer, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/k", context: ["aws:Referer": ["http://evil.example/"]], expected: .notApplicable),
        Row(name: "Referer missing", policy: referer, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/k", expected: .notApplicable),
        Row(name: "TLS only: plain HTTP denied", policy: tlsOnly, principal: alice, action: "s3:PutObject",
            resource: "arn:aws:s3:::photos/k", context: ["aws:SecureTransport": ["false"]], expected: .deny),
        Row(name: "TLS only: TLS passes", policy: tlsOnly, principal: alice, action: "s3:PutObject",
            resource: "arn:aws:s3:::photos/k", context: ["aws:SecureTransport": ["true"]], expected: .notApplicable),
        Row(name: "home prefix: bob lists his home", policy: homePrefix, principal: bob, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos", context: ["s3:prefix": ["home/bob/"], "aws:username": ["bob"]],
            expected: .allow),
        Row(name: "home prefix: bob lists alice's", policy: homePrefix, principal: bob, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos", context: ["s3:prefix": ["home/alice/"], "aws:username": ["bob"]],
            expected: .notApplicable),
        Row(name: "home prefix: bob writes his home (variable in resource)", policy: homePrefix, principal: bob,
            action: "s3:PutObject", resource: "arn:aws:s3:::photos/home/bob/x", context: ["aws:username": ["bob"]],
            expected: .allow),
        Row(name: "home prefix: alice is not the principal", policy: homePrefix, principal: alice,
            action: "s3:PutObject", resource: "arn:aws:s3:::photos/home/alice/x", context: ["aws:username": ["alice"]],
            expected: .notApplicable),
        Row(name: "NotPrincipal/NotAction: bob's put denied", policy: notPrincipal, principal: bob, action: "s3:PutObject",
            resource: "arn:aws:s3:::photos/k", expected: .deny),
        Row(name: "NotPrincipal: alice exempt", policy: notPrincipal, principal: alice, action: "s3:PutObject",
            resource: "arn:aws:s3:::photos/k", expected: .notApplicable),
        Row(name: "NotAction: reads exempt", policy: notPrincipal, principal: .anonymous, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/k", expected: .notApplicable),
        Row(name: "numeric and string conditions hold", policy: maxKeys, principal: .anonymous, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos", context: ["s3:max-keys": ["5"], "s3:delimiter": ["/"]], expected: .allow),
        Row(name: "numeric condition fails", policy: maxKeys, principal: .anonymous, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos", context: ["s3:max-keys": ["1000"], "s3:delimiter": ["/"]],
            expected: .notApplicable),
        Row(name: "numeric key missing", policy: maxKeys, principal: .anonymous, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos", context: ["s3:delimiter": ["/"]], expected: .notApplicable),
        // …IfExists: an absent key makes the condition hold (here: the Deny applies without the header).
        Row(name: "IfExists: no ACL header, the condition holds", policy: ifExists, principal: alice,
            action: "s3:PutObject", resource: "arn:aws:s3:::photos/k", expected: .deny),
        Row(name: "IfExists: public-read is denied", policy: ifExists, principal: alice, action: "s3:PutObject",
            resource: "arn:aws:s3:::photos/k", context: ["s3:x-amz-acl": ["public-read"]], expected: .deny),
        Row(name: "IfExists: private passes", policy: ifExists, principal: alice, action: "s3:PutObject",
            resource: "arn:aws:s3:::photos/k", context: ["s3:x-amz-acl": ["private"]], expected: .notApplicable),
        Row(name: "Null false and date before", policy: nullAndDates, principal: alice, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/k",
            context: ["aws:username": ["alice"], "aws:CurrentTime": ["2026-12-01T12:00:00Z"]], expected: .allow),
        Row(name: "Null false: anonymous has no username", policy: nullAndDates, principal: .anonymous,
            action: "s3:GetObject", resource: "arn:aws:s3:::photos/k",
            context: ["aws:CurrentTime": ["2026-12-01T12:00:00Z"]], expected: .notApplicable),
        Row(name: "date after", policy: nullAndDates, principal: alice, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/k",
            context: ["aws:username": ["alice"], "aws:CurrentTime": ["2031-01-01T00:00:00Z"]], expected: .notApplicable),
        Row(name: "canonical user, action case-insensitive, NotResource", policy: canonicalAndArn, principal: bob,
            action: "s3:GetObject", resource: "arn:aws:s3:::photos/public/x", expected: .allow),
        Row(name: "NotResource excludes", policy: canonicalAndArn, principal: bob, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/private/x", expected: .notApplicable),
        Row(name: "canonical user is not alice", policy: canonicalAndArn, principal: alice, action: "s3:GetObject",
            resource: "arn:aws:s3:::photos/public/x", expected: .notApplicable),
        Row(name: "ArnLike and ForAnyValue", policy: canonicalAndArn, principal: .anonymous, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos",
            context: ["aws:SourceArn": ["arn:aws:s3:::photos-logs"], "s3:prefix": ["b"]], expected: .allow),
        Row(name: "ForAnyValue: no value matches", policy: canonicalAndArn, principal: .anonymous, action: "s3:ListBucket",
            resource: "arn:aws:s3:::photos",
            context: ["aws:SourceArn": ["arn:aws:s3:::photos-logs"], "s3:prefix": ["c"]], expected: .notApplicable),
    ]

    @Test(arguments: rows) func decision(_ row: Row) throws {
        let policy = try BucketPolicy.parse(Array(row.policy.utf8), bucket: Self.bucket)
        let request = PolicyRequest(principal: row.principal, action: row.action, resource: row.resource,
                                    context: row.context)
        #expect(PolicyEvaluator.evaluate(policy, request: request) == row.expected)
    }

    static let malformed: [(String, String)] = [
        ("", "Policies must be valid JSON"),
        ("not json", "Policies must be valid JSON"),
        ("[1,2]", "Policies must be valid JSON"),
        ("{\"Version\":\"2012-10-17\"}", "Missing required field Statement"),
        ("{\"Version\":\"2012-10-17\",\"Statement\":[]}", "Statement is empty"),
        ("{\"Version\":\"2020-01-01\",\"Statement\":[]}", "valid version"),
        (statement("{\"Effect\":\"Maybe\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::photos\"}"), "Invalid effect"),
        (statement("{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::photos\"}"), "Missing required field Principal"),
        (statement("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ec2:*\",\"Resource\":\"arn:aws:s3:::photos\"}"), "invalid action"),
        (statement("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::other/*\"}"), "invalid resource"),
        (statement("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\"}"), "Missing required field Resource"),
        (statement("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::photos\",\"Condition\":{\"StringSort\":{\"a\":\"b\"}}}"), "Invalid Condition type"),
        (statement("{\"Effect\":\"Allow\",\"Principal\":{\"Robot\":\"x\"},\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::photos\"}"), "Invalid principal"),
        (statement("{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"bob\"},\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::photos\"}"), "NotPrincipal"),
        (statement("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::ph*x/*\"}"), "invalid resource"),
        (statement("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::photos\",\"Color\":\"red\"}"), "Unknown field"),
    ]

    @Test func malformedPoliciesAreRefused() {
        for (document, reason) in Self.malformed {
            do {
                _ = try BucketPolicy.parse(Array(document.utf8), bucket: Self.bucket)
                Issue.record("accepted: \(document)")
            } catch {
                #expect(error.reason.contains(reason), "\(document): \(error.reason)")
            }
        }
        #expect(throws: PolicyError.self) {
            try BucketPolicy.parse(Array(repeating: UInt8(ascii: " "), count: BucketPolicy.documentBytesMax + 1), bucket: "b")
        }
    }

    @Test func wildcardsAndAddresses() {
        #expect(PolicyWildcard.matches(pattern: "s3:Get*", "s3:GetObject"))
        #expect(PolicyWildcard.matches(pattern: "a*b?c", "aXXbYc"))
        #expect(!PolicyWildcard.matches(pattern: "a*b?c", "aXXbc"))
        #expect(PolicyWildcard.matches(pattern: "*", ""))
        #expect(PolicyWildcard.matches(pattern: "S3:GET*", "s3:getobject", ignoringCase: true))
        #expect(!PolicyWildcard.matches(pattern: "S3:GET*", "s3:getobject"))
        #expect(PolicyWildcard.matches(pattern: String(repeating: "*a", count: 50), String(repeating: "a", count: 2000)))
        #expect(CIDRBlock("10.0.0.0/8")!.contains(IPAddressBytes.parse("10.200.1.1")!))
        #expect(!CIDRBlock("10.0.0.0/8")!.contains(IPAddressBytes.parse("11.0.0.1")!))
        #expect(CIDRBlock("127.0.0.1")!.contains(IPAddressBytes.parse("127.0.0.1")!))
        #expect(CIDRBlock("2001:db8::/32")!.contains(IPAddressBytes.parse("2001:db8:1::5")!))
        #expect(!CIDRBlock("2001:db8::/32")!.contains(IPAddressBytes.parse("10.0.0.1")!))
        #expect(CIDRBlock("10.0.0.0/33") == nil)
        #expect(IPAddressBytes.parse("256.1.1.1") == nil)
        #expect(IPAddressBytes.parse("::ffff:10.1.2.3") == IPAddressBytes.parse("10.1.2.3"))
        #expect(PolicyDate.seconds("1700000000") == 1_700_000_000)
        #expect(PolicyDate.seconds("2023-11-14T22:13:20Z") == 1_700_000_000)
        #expect(PolicyDate.seconds("yesterday") == nil)
    }

    @Test func publicStatus() throws {
        #expect(try BucketPolicy.parse(Array(Self.publicRead.utf8), bucket: Self.bucket).isPublic)
        #expect(try !BucketPolicy.parse(Array(Self.homePrefix.utf8), bucket: Self.bucket).isPublic)
        #expect(try !BucketPolicy.parse(Array(Self.tlsOnly.utf8), bucket: Self.bucket).isPublic)
        let pinned = Self.statement("""
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*",
             "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}
            """)
        #expect(try !BucketPolicy.parse(Array(pinned.utf8), bucket: Self.bucket).isPublic)
    }
}
