import Testing

import S3Protocol

private func tagging(_ pairs: [(String, String)]) -> [UInt8] {
    var body = "<Tagging><TagSet>"
    for (key, value) in pairs { body += "<Tag><Key>\(key)</Key><Value>\(value)</Value></Tag>" }
    return Array((body + "</TagSet></Tagging>").utf8)
}

private func reason(_ body: () throws(TaggingError) -> TagSet) -> TaggingError? {
    do { _ = try body() } catch { return error }
    return nil
}

private func corsFailure(_ body: String) -> CORSConfigurationError? {
    do { _ = try CORSConfiguration.parse(Array(body.utf8)) } catch { return error }
    return nil
}

/// Goal: tag sets follow AWS's rules (PutObjectTagging, PutBucketTagging, `x-amz-tagging`) with AWS's error
/// codes, and their stored form round-trips. Method: AWS documentation examples and the limits at and one
/// past each bound.
@Suite("Tagging")
struct TaggingParseTests {
    @Test func documentParsesSortedAndRoundTrips() throws {
        let tags = try TagSet.parse(tagging([("Project", "Silo"), ("Env", "prod")]), for: .object)
        #expect(tags.tags.map(\.key) == ["Env", "Project"])
        #expect(tags.value(of: "Project") == "Silo")
        #expect(TagSet(storedForm: tags.storedForm) == tags)
        #expect(tags.xml().contains("<TagSet><Tag><Key>Env</Key><Value>prod</Value></Tag><Tag><Key>Project</Key>"))
        // Awkward characters survive the stored form.
        let unicode = try TagSet(validating: [.init(key: "clé bleue/é", value: "a=b+c@d:e")], for: .object)
        #expect(unicode.storedForm == "cl%C3%A9%20bleue%2F%C3%A9=a%3Db%2Bc%40d%3Ae")
        #expect(TagSet(storedForm: unicode.storedForm) == unicode)
        #expect(TagSet(storedForm: "") == TagSet.empty)
        #expect(TagSet(storedForm: "novalue") == nil)
    }

    @Test func limits() throws {
        let ten = (0..<10).map { (String($0), String($0)) }
        #expect(try TagSet.parse(tagging(ten), for: .object).count == 10)
        #expect(reason { () throws(TaggingError) in try TagSet.parse(tagging(ten + [("x", "y")]), for: .object) }
            == .invalidTag(reason: "Object tags cannot be greater than 10"))
        let fifty = (0..<50).map { (String($0), "v") }
        #expect(try TagSet.parse(tagging(fifty), for: .bucket).count == 50)
        #expect(reason { () throws(TaggingError) in try TagSet.parse(tagging(fifty + [("x", "y")]), for: .bucket) }
            == .invalidTag(reason: "Bucket tag count cannot be greater than 50"))
        let longKey = String(repeating: "k", count: 128)
        let longValue = String(repeating: "é", count: 256)
        #expect(try TagSet(validating: [.init(key: longKey, value: longValue)], for: .object).count == 1)
        #expect(reason { () throws(TaggingError) in try TagSet(validating: [.init(key: longKey + "k", value: "")], for: .object) }
            == .invalidTag(reason: "The TagKey you have provided is too long, max 128"))
        #expect(reason { () throws(TaggingError) in try TagSet(validating: [.init(key: "k", value: longValue + "é")], for: .object) }
            == .invalidTag(reason: "The TagValue you have provided is too long, max 256"))
    }

    // Goal: the largest legal Tagging document (50 tags of the longest keys and values, in 4-byte UTF-8
    // characters) fits the body limit the Gateway reads.
    @Test func largestLegalDocumentFitsTheBodyLimit() throws {
        let key = String(repeating: "\u{20000}", count: S3Limits.tagKeyCharactersMax - 2)
        let value = String(repeating: "\u{20000}", count: S3Limits.tagValueCharactersMax)
        let body = tagging((0..<S3Limits.bucketTagCountMax).map { (key + ($0 < 10 ? "0\($0)" : "\($0)"), value) })
        #expect(body.count <= S3Limits.taggingDocumentBytesMax)
        #expect(try TagSet.parse(body, for: .bucket).count == S3Limits.bucketTagCountMax)
    }

    @Test func invalidTags() {
        let cases: [([TagSet.Tag], String)] = [
            ([.init(key: "a", value: "1"), .init(key: "a", value: "2")], "Cannot provide multiple Tags with the same key"),
            ([.init(key: "aws:cloudformation", value: "x")], "Your TagKey cannot be prefixed with aws:"),
            ([.init(key: "", value: "x")], "The TagKey you have provided is invalid"),
            ([.init(key: "semi;colon", value: "x")], "The TagKey you have provided is invalid"),
            ([.init(key: "k", value: "new\nline")], "The TagValue you have provided is invalid"),
        ]
        for (tags, message) in cases {
            #expect(reason { () throws(TaggingError) in try TagSet(validating: tags, for: .object) }
                == .invalidTag(reason: message), "\(tags)")
        }
        // Letters of any script, numbers, spaces and `_ . : / = + - @` are allowed; an empty value too.
        #expect(reason { () throws(TaggingError) in
            try TagSet(validating: [.init(key: "日本 _.:/=+-@ 9", value: "")], for: .object)
        } == nil)
    }

    @Test func malformedDocuments() {
        for body in ["<Tagging></Tagging>", "<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
                     "<Other/>", "not xml"] {
            guard case .malformedXML? = reason({ () throws(TaggingError) in try TagSet.parse(Array(body.utf8), for: .object) })
            else { Issue.record("\(body) was not refused as malformed"); continue }
        }
        // An empty TagSet is a legal (empty) set.
        #expect(reason { () throws(TaggingError) in
            try TagSet.parse(Array("<Tagging><TagSet></TagSet></Tagging>".utf8), for: .object)
        } == nil)
    }

    @Test func header() throws {
        // s3-tests' test_put_obj_with_tags: `foo=bar&bar` is foo → bar and bar → "".
        let tags = try TagSet.parseHeader("foo=bar&bar")
        #expect(tags.tags == [.init(key: "bar", value: ""), .init(key: "foo", value: "bar")])
        #expect(try TagSet.parseHeader("a%20b=c+d").value(of: "a b") == "c d")
        #expect(try TagSet.parseHeader("").isEmpty)
        guard case .invalidHeader? = reason({ () throws(TaggingError) in try TagSet.parseHeader("a=1&a=2") }) else {
            Issue.record("a repeated key in x-amz-tagging was accepted")
            return
        }
        guard case .invalidHeader? = reason({ () throws(TaggingError) in try TagSet.parseHeader("a=%zz") }) else {
            Issue.record("a bad escape in x-amz-tagging was accepted")
            return
        }
        guard case .invalidTag? = reason({ () throws(TaggingError) in try TagSet.parseHeader("aws:x=1") }) else {
            Issue.record("a reserved key in x-amz-tagging was accepted")
            return
        }
    }
}

/// Goal: CORS configurations are validated as AWS does and matched as browsers need (wildcard origins and
/// headers, the first matching rule). Method: AWS documentation examples and s3-tests' origin table.
@Suite("CORS")
struct CORSTests {
    static let example = """
        <CORSConfiguration>
         <CORSRule><AllowedOrigin>http://www.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>
           <AllowedMethod>POST</AllowedMethod><AllowedMethod>DELETE</AllowedMethod><AllowedHeader>*</AllowedHeader>
           <MaxAgeSeconds>3000</MaxAgeSeconds><ExposeHeader>x-amz-server-side-encryption</ExposeHeader></CORSRule>
         <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
        </CORSConfiguration>
        """

    @Test func awsExampleParsesAndRoundTrips() throws {
        let configuration = try CORSConfiguration.parse(Array(Self.example.utf8))
        #expect(configuration.rules.count == 2)
        #expect(configuration.rules[0].allowedMethods == ["PUT", "POST", "DELETE"])
        #expect(configuration.rules[0].maxAgeSeconds == 3000)
        #expect(try CORSConfiguration.parse(Array(configuration.xml().utf8)) == configuration)
    }

    @Test func matching() throws {
        let configuration = try CORSConfiguration.parse(Array(Self.example.utf8))
        let put = try #require(configuration.match(origin: "http://www.example.com", method: "PUT",
                                                   requestHeaders: ["Content-Type", "x-amz-meta-a"]))
        #expect(put.origin == "http://www.example.com")
        #expect(configuration.match(origin: "http://other.example", method: "PUT", requestHeaders: []) == nil)
        #expect(configuration.match(origin: "http://other.example", method: "GET", requestHeaders: [])?.origin == "*")
        // The GET rule allows no request headers.
        #expect(configuration.match(origin: "http://other.example", method: "GET", requestHeaders: ["x-a"]) == nil)
        // s3-tests' test_cors_origin_response: one wildcard anywhere, matching the empty run too.
        let rules = CORSConfiguration(rules: [
            .init(allowedMethods: ["GET"], allowedOrigins: ["*suffix"]),
            .init(allowedMethods: ["GET"], allowedOrigins: ["start*end"]),
            .init(allowedMethods: ["GET"], allowedOrigins: ["prefix*"]),
            .init(allowedMethods: ["PUT"], allowedOrigins: ["*.put"]),
        ])
        for (origin, allowed) in [("foo.suffix", true), ("foo.bar", false), ("foo.suffix.get", false),
                                  ("startend", true), ("start12end", true), ("0start12end", false), ("prefix", true),
                                  ("prefix.suffix", true), ("bla.prefix", false), ("foo.put", false)] {
            #expect((rules.match(origin: origin, method: "GET", requestHeaders: []) != nil) == allowed, "\(origin)")
        }
        #expect(rules.match(origin: "foo.put", method: "PUT", requestHeaders: [])?.origin == "*.put")
        // Header names compare case-insensitively, with a wildcard.
        let headers = CORSConfiguration.Rule(allowedMethods: ["GET"], allowedOrigins: ["*"], allowedHeaders: ["x-amz-*"])
        #expect(headers.allowsHeaders(["X-Amz-Date", "x-amz-meta-a"]))
        #expect(!headers.allowsHeaders(["authorization"]))
    }

    @Test func validation() {
        func rule(_ inner: String) -> String { "<CORSConfiguration><CORSRule>\(inner)</CORSRule></CORSConfiguration>" }
        let origin = "<AllowedOrigin>*</AllowedOrigin>"
        let get = "<AllowedMethod>GET</AllowedMethod>"
        #expect(corsFailure(rule(origin + get)) == nil)
        let malformed = ["<CORSConfiguration></CORSConfiguration>", rule(origin), rule(get),
                         rule(origin + get + "<MaxAgeSeconds>soon</MaxAgeSeconds>"),
                         rule(origin + get + "<ID>\(String(repeating: "i", count: 256))</ID>"),
                         "<CORSConfiguration>" + String(repeating: "<CORSRule>\(origin + get)</CORSRule>", count: 101)
                            + "</CORSConfiguration>"]
        for body in malformed {
            guard case .malformedXML? = corsFailure(body) else { Issue.record("not malformed: \(body.prefix(80))"); continue }
        }
        #expect(corsFailure(rule(origin + "<AllowedMethod>PATCH</AllowedMethod>"))
            == .invalidRequest(reason: "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"))
        #expect(corsFailure(rule("<AllowedOrigin>*.*</AllowedOrigin>" + get))
            == .invalidRequest(reason: "AllowedOrigin \"*.*\" can not have more than one wildcard."))
        #expect(corsFailure(rule(origin + get + "<AllowedHeader>a*b*</AllowedHeader>"))
            == .invalidRequest(reason: "AllowedHeader \"a*b*\" can not have more than one wildcard."))
        guard case .invalidRequest? = corsFailure(rule(origin + get + "<ExposeHeader>x-*</ExposeHeader>")) else {
            Issue.record("a wildcard ExposeHeader was accepted")
            return
        }
        #expect(corsFailure("<CORSConfiguration>" + String(repeating: "<CORSRule>\(origin + get)</CORSRule>", count: 100)
            + "</CORSConfiguration>") == nil)
    }
}
