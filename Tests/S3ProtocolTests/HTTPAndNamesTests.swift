import Testing

import S3Protocol

@Test func rangeParsingAndResolution() {
    // Goal: the three single-range forms resolve as S3 answers them; multiple or invalid ranges mean "whole
    // object" (S3 ignores them and answers 200); ranges past the end are unsatisfiable (416).
    #expect(ByteRange.parse("bytes=0-9") == .closed(first: 0, last: 9))
    #expect(ByteRange.parse("bytes=5-") == .from(first: 5))
    #expect(ByteRange.parse("bytes=-20") == .suffix(length: 20))
    #expect(ByteRange.parse("bytes=0-1,3-4") == nil)
    #expect(ByteRange.parse("bytes=5-2") == nil)
    #expect(ByteRange.parse("items=0-1") == nil)
    #expect(ByteRange.parse("bytes=-") == nil)
    #expect(ByteRange.parse("bytes=a-b") == nil)
    #expect(ByteRange.parse("bytes=0-99999999999999999999") == nil)
    #expect(ByteRange.closed(first: 0, last: 9).resolve(size: 100) == .satisfiable(first: 0, last: 9))
    #expect(ByteRange.closed(first: 90, last: 200).resolve(size: 100) == .satisfiable(first: 90, last: 99))
    #expect(ByteRange.closed(first: 100, last: 200).resolve(size: 100) == .unsatisfiable)
    #expect(ByteRange.from(first: 99).resolve(size: 100) == .satisfiable(first: 99, last: 99))
    #expect(ByteRange.from(first: 100).resolve(size: 100) == .unsatisfiable)
    #expect(ByteRange.suffix(length: 20).resolve(size: 100) == .satisfiable(first: 80, last: 99))
    #expect(ByteRange.suffix(length: 150).resolve(size: 100) == .satisfiable(first: 0, last: 99))
    #expect(ByteRange.suffix(length: 0).resolve(size: 100) == .unsatisfiable)
    #expect(ByteRange.from(first: 0).resolve(size: 0) == .unsatisfiable)
    #expect(ResolvedRange.satisfiable(first: 80, last: 99).contentRange(size: 100) == "bytes 80-99/100")
    #expect(ResolvedRange.satisfiable(first: 80, last: 99).byteCount == 20)
    #expect(ResolvedRange.unsatisfiable.contentRange(size: 100) == "bytes */100")
    #expect(ByteRange.parseCopySourceRange("bytes=0-5242879") == .closed(first: 0, last: 5_242_879))
    #expect(ByteRange.parseCopySourceRange("bytes=5-") == nil)
}

@Test func etagParsing() {
    // Goal: quoting, weak tags, lists and `*`.
    #expect(EntityTag.quote("abc") == "\"abc\"")
    #expect(EntityTag.quote("\"abc\"") == "\"abc\"")
    #expect(EntityTag.unquote("\"abc-2\"") == "abc-2")
    #expect(EntityTag(parsing: "W/\"x\"") == EntityTag(value: "x", isWeak: true))
    #expect(EntityTag(parsing: "\"x") == nil)
    #expect(ETagCondition.parse("*") == .any)
    #expect(ETagCondition.parse("\"a\", W/\"b\" ,c") == .tags([.init(value: "a"), .init(value: "b", isWeak: true), .init(value: "c")]))
    #expect(ETagCondition.parse("") == nil)
    let list = ETagCondition.parse("\"a\", W/\"b\"")!
    #expect(list.matchesStrongly("\"a\"") && !list.matchesStrongly("\"b\"") && list.matchesWeakly("\"b\""))
}

@Test func conditionalEvaluation() {
    // Goal: S3's (RFC 9110's) precedence: If-Match before If-Unmodified-Since, If-None-Match before
    // If-Modified-Since; 304 for reads, 412 for copy sources.
    let etag = "\"9b2cf535f27731c974343645a3985328\""
    let modified: Int64 = 1_255_369_830_000  // Mon, 12 Oct 2009 17:50:30 GMT
    let before = "Sun, 11 Oct 2009 17:50:30 GMT", same = "Mon, 12 Oct 2009 17:50:30 GMT", after = "Tue, 13 Oct 2009 17:50:30 GMT"
    func outcome(_ headers: [(String, String)], _ family: ConditionalHeaders.Family = .read) -> ConditionalOutcome {
        let prefix = family == .read ? "If-" : "x-amz-copy-source-if-"
        let named = headers.map { (name: prefix + $0.0, value: $0.1) }
        return ConditionalHeaders.parse(headers: named, family: family).evaluate(etag: etag, lastModifiedMilliseconds: modified + 123, family: family)
    }
    #expect(outcome([]) == .proceed)
    #expect(outcome([("Match", etag)]) == .proceed)
    #expect(outcome([("Match", "\"other\"")]) == .preconditionFailed)
    #expect(outcome([("Match", "*")]) == .proceed)
    #expect(outcome([("Unmodified-Since", before)]) == .preconditionFailed)
    #expect(outcome([("Unmodified-Since", same)]) == .proceed)
    // If-Match true and If-Unmodified-Since false → 200 (S3 docs).
    #expect(outcome([("Match", etag), ("Unmodified-Since", before)]) == .proceed)
    #expect(outcome([("None-Match", etag)]) == .notModified)
    #expect(outcome([("None-Match", "W/" + etag)]) == .notModified)
    #expect(outcome([("None-Match", "\"other\"")]) == .proceed)
    #expect(outcome([("Modified-Since", same)]) == .notModified)
    #expect(outcome([("Modified-Since", before)]) == .proceed)
    // If-None-Match false (matches) and If-Modified-Since true → 304 (S3 docs).
    #expect(outcome([("None-Match", etag), ("Modified-Since", before)]) == .notModified)
    #expect(outcome([("None-Match", "\"other\""), ("Modified-Since", after)]) == .proceed)
    #expect(outcome([("Modified-Since", "not a date")]) == .proceed)
    #expect(outcome([("Match", "\"other\""), ("None-Match", etag)]) == .preconditionFailed)
    // Copy source: the same order, 412 instead of 304.
    #expect(outcome([("None-Match", etag)], .copySource) == .preconditionFailed)
    #expect(outcome([("Modified-Since", after)], .copySource) == .preconditionFailed)
    #expect(outcome([("Match", etag), ("Unmodified-Since", before)], .copySource) == .proceed)
    #expect(outcome([("Match", etag)], .copySource) == .proceed)
}

@Test func timeFormats() {
    // Goal: the three S3 time formats round-trip and match known instants, without DateFormatter.
    #expect(S3Time.iso8601(milliseconds: 1_255_369_830_000) == "2009-10-12T17:50:30.000Z")
    #expect(S3Time.iso8601(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
    #expect(S3Time.iso8601(milliseconds: 951_782_400_123) == "2000-02-29T00:00:00.123Z")
    #expect(S3Time.httpDate(milliseconds: 784_111_777_000) == "Sun, 06 Nov 1994 08:49:37 GMT")
    #expect(S3Time.amzDate(milliseconds: 1_369_353_600_000) == "20130524T000000Z")
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777_000)
    #expect(S3Time.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777_000)
    #expect(S3Time.parseHTTPDate("Sun Nov  6 08:49:37 1994") == 784_111_777_000)
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 CET") == nil)
    // Numeric zones (RFC 1123 / 2822; Python's formatdate writes -0000 for UTC).
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 -0000") == 784_111_777_000)
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 09:49:37 +0100") == 784_111_777_000)
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 03:19:37 -0530") == 784_111_777_000)
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 +0160") == nil)
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 +01") == nil)
    #expect(S3Time.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 0100") == nil)
    #expect(S3Time.parseHTTPDate("Sun, 31 Feb 1994 08:49:37 GMT") == nil)
    #expect(S3Time.parseISO8601("2009-10-12T17:50:30.000Z") == 1_255_369_830_000)
    #expect(S3Time.parseISO8601("2009-10-12T17:50:30Z") == 1_255_369_830_000)
    #expect(S3Time.parseISO8601("2009-10-12T17:50:30.5Z") == 1_255_369_830_500)
    #expect(S3Time.parseAmzDate("20130524T000000Z") == 1_369_353_600_000)
    #expect(S3Time.parseAmzDate("20130524T240000Z") == nil)
    // Round trips across a wide span, including before the epoch.
    var generator = SplitMix64(seed: 11)
    for _ in 0..<2000 {
        let milliseconds = Int64(bitPattern: generator.next() % 8_000_000_000_000) - 1_000_000_000_000
        #expect(S3Time.parseISO8601(S3Time.iso8601(milliseconds: milliseconds)) == milliseconds)
        let seconds = milliseconds - ((milliseconds % 1000) + 1000) % 1000
        #expect(S3Time.parseHTTPDate(S3Time.httpDate(milliseconds: milliseconds)) == seconds)
    }
}

@Test func bucketNameRules() {
    // Goal: each AWS naming rule rejects with its reason; valid names pass.
    for name in ["abc", "my-bucket.example", "a1-2.b3", String(repeating: "a", count: 63), "192.168.5.4x"] {
        #expect(BucketName.isValid(name), "\(name)")
    }
    let cases: [(String, BucketNameError)] = [
        ("ab", .tooShort(length: 2)), (String(repeating: "a", count: 64), .tooLong(length: 64)),
        ("My-Bucket", .invalidCharacter("M")), ("my_bucket", .invalidCharacter("_")), ("-abc", .mustStartWithLetterOrDigit),
        ("abc-", .mustEndWithLetterOrDigit), ("a..b", .adjacentPeriods), ("a-.b", .periodNextToHyphen), ("a.-b", .periodNextToHyphen), ("192.168.5.4", .ipAddressFormat),
        ("xn--abc", .reservedPrefix("xn--")), ("sthree-abc", .reservedPrefix("sthree-")),
        ("abc-s3alias", .reservedSuffix("-s3alias")), ("abc--ol-s3", .reservedSuffix("--ol-s3")), ("bücket", .invalidCharacter("ü")),
    ]
    for (name, error) in cases {
        #expect(throws: error) { try BucketName.validate(name) }
    }
}

@Test func keyAndMetadataRules() throws {
    // Goal: key length in UTF-8 bytes; metadata names lower-cased, repeated headers joined, 2 KiB bound.
    #expect(throws: ObjectKeyError.empty) { try ObjectKey.validate("") }
    #expect(throws: Never.self) { try ObjectKey.validate(String(repeating: "é", count: 512)) }
    #expect(throws: ObjectKeyError.tooLong(byteCount: 1026)) { try ObjectKey.validate(String(repeating: "é", count: 513)) }
    let metadata = try UserMetadata.parse(headers: [
        ("X-Amz-Meta-Color", "blue"), ("content-type", "x"), ("x-amz-meta-color", "green"), ("x-amz-meta-size", " 10 "),
    ])
    #expect(metadata.map(\.name) == ["color", "size"])
    #expect(metadata.map(\.value) == ["blue,green", "10"])
    #expect(throws: Never.self) { try UserMetadata.parse(headers: [("x-amz-meta-k", String(repeating: "v", count: 2047))]) }
    #expect(throws: UserMetadataError.tooLarge(byteCount: 2049)) {
        try UserMetadata.parse(headers: [("x-amz-meta-k", String(repeating: "v", count: 2048))])
    }
}
