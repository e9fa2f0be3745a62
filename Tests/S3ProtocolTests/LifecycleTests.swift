import Testing

@testable import S3Protocol

/// Goal: `LifecycleConfiguration` accepts what AWS accepts and refuses the rest with AWS's error class,
/// keeps the same meaning through its canonical form, and decides expirations and aborts at the right time.
/// Method: documents in, configurations and errors out; decisions checked on both sides of each boundary.
@Suite struct LifecycleTests {
    static func document(_ rules: String) -> [UInt8] {
        Array("<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(rules)</LifecycleConfiguration>".utf8)
    }

    static func parse(_ rules: String) throws(LifecycleConfigurationError) -> LifecycleConfiguration {
        var next = 0
        return try LifecycleConfiguration.parse(document(rules)) {
            next += 1
            return "generated-\(next)"
        }
    }

    static func refusal(_ rules: String) -> LifecycleConfigurationError? {
        do { _ = try parse(rules) } catch { return error }
        return nil
    }

    static let day: Int64 = 86_400_000

    @Test func parsesEveryActionAndFilterAndRoundTrips() throws {
        let configuration = try Self.parse("""
            <Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>
              <Expiration><Days>30</Days></Expiration>
              <NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>
              <AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
            <Rule><Filter><And><Prefix>t/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>
              <ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>Disabled</Status>
              <Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>
            <Rule><ID>markers</ID><Prefix></Prefix><Status>Enabled</Status>
              <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
            """)
        #expect(configuration.rules.map(\.id) == ["logs", "generated-1", "markers"])
        let logs = configuration.rules[0]
        #expect(logs.enabled && logs.filter.prefix == "logs/" && logs.expiration == .days(30))
        #expect(logs.noncurrentDays == 7 && logs.newerNoncurrentVersions == 2 && logs.abortIncompleteDays == 3)
        let tagged = configuration.rules[1]
        #expect(!tagged.enabled && tagged.filter.tags == [TagSet.Tag(key: "k", value: "v")])
        #expect(tagged.filter.sizeGreaterThan == 10 && tagged.expiration == .date(1_893_456_000_000))
        #expect(configuration.rules[2].filter.ruleLevelPrefix && configuration.rules[2].expiration == .expiredObjectDeleteMarker)
        // The canonical form means the same thing (and names every rule).
        let again = try LifecycleConfiguration.parse(Array(configuration.xml().utf8)) { "unused" }
        #expect(again == configuration)
    }

    @Test func refusesWhatAWSRefuses() {
        let enabled = "<Status>Enabled</Status>"
        let expire = "<Expiration><Days>1</Days></Expiration>"
        let cases: [(String, LifecycleConfigurationError)] = [
            ("", .malformedXML(reason: "no Rule")),
            ("<Rule><Filter/><Status>On</Status>\(expire)</Rule>", .malformedXML(reason: "a Rule's Status must be Enabled or Disabled")),
            ("<Rule><Filter/>\(enabled)</Rule>", .invalidRequest(reason: "At least one action needs to be specified in a rule")),
            ("<Rule><Filter/>\(enabled)<Expiration><Days>0</Days></Expiration></Rule>",
             .invalidArgument(reason: "'Days' for Expiration action must be a positive integer")),
            ("<Rule><Filter/>\(enabled)<Expiration><Days>-3</Days></Expiration></Rule>",
             .invalidArgument(reason: "'Days' for Expiration action must be a positive integer")),
            ("<Rule><Filter/>\(enabled)<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration></Rule>",
             .invalidArgument(reason: "'Date' must be at midnight GMT")),
            ("<Rule><Filter/>\(enabled)<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>",
             .malformedXML(reason: "an Expiration needs exactly one of Days, Date, ExpiredObjectDeleteMarker")),
            ("<Rule><ID>a</ID><Filter/>\(enabled)\(expire)</Rule><Rule><ID>a</ID><Filter/>\(enabled)\(expire)</Rule>",
             .invalidArgument(reason: "Rule ID must be unique. Found same ID for more than one rule")),
            ("<Rule><ID>\(String(repeating: "x", count: 256))</ID><Filter/>\(enabled)\(expire)</Rule>",
             .invalidArgument(reason: "ID length should not exceed allowed limit of 255")),
            ("<Rule><Filter><And><Prefix>a</Prefix></And><Tag><Key>k</Key><Value>v</Value></Tag></Filter>\(enabled)\(expire)</Rule>",
             .malformedXML(reason: "a Filter names And beside another condition")),
            ("<Rule><Filter><Prefix>a</Prefix><Prefix>b</Prefix></Filter>\(enabled)\(expire)</Rule>",
             .malformedXML(reason: "a Filter names Prefix twice")),
            ("<Rule><Filter/><Prefix>a</Prefix>\(enabled)\(expire)</Rule>", .malformedXML(reason: "a Rule has both a Filter and a Prefix")),
            ("<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>\(enabled)"
                + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>",
             .invalidRequest(reason: "AbortIncompleteMultipartUpload cannot be specified with Tags.")),
            ("<Rule><Filter/>\(enabled)<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                + "<NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>",
             .invalidArgument(reason: "'NewerNoncurrentVersions' must be from 1 to 100")),
            ("<Rule><Filter/>\(enabled)<Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>",
             .notImplemented("Lifecycle transitions (Silo keeps one storage class)")),
        ]
        for (rules, expected) in cases {
            #expect(Self.refusal(rules) == expected, "\(rules.prefix(120))")
        }
        #expect(Self.refusal("<Rule><Filter/>\(enabled)\(expire)</Rule>") == nil)
        // Conditions directly in Filter are read as inside And (RGW's reading).
        let direct = try? Self.parse("<Rule><Filter><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
            + "\(enabled)\(expire)</Rule>")
        #expect(direct?.rules.first?.filter == LifecycleConfiguration.Filter(prefix: "a/", tags: [TagSet.Tag(key: "k", value: "v")]))
    }

    @Test func realDaysRoundUpToMidnightAndScaledDaysDoNot() {
        let written: Int64 = 10 * Self.day + 3_600_000  // day 10, 01:00 UTC
        let real = LifecycleClock(now: 0)
        #expect(real.due(after: written, days: 3) == 14 * Self.day)
        #expect(real.due(after: 10 * Self.day, days: 3) == 13 * Self.day)
        let scaled = LifecycleClock(now: 0, dayMilliseconds: 2_000)
        #expect(scaled.due(after: written, days: 3) == written + 6_000)
        #expect(real.due(after: .max - 5, days: 1) == .max)
    }

    @Test func decidesExpirationsOnBothSidesOfTheirTime() throws {
        let configuration = try Self.parse("""
            <Rule><ID>old</ID><Filter><And><Prefix>a/</Prefix><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter>
              <Status>Enabled</Status><Expiration><Days>2</Days></Expiration>
              <NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration>
              <AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
            <Rule><ID>tagged</ID><Filter><Tag><Key>tmp</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status>
              <Expiration><Days>1</Days></Expiration></Rule>
            <Rule><ID>off</ID><Filter/><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
            <Rule><ID>markers</ID><Filter><Prefix>m/</Prefix></Filter><Status>Enabled</Status>
              <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
            """)
        let before = LifecycleClock(now: 2 * Self.day - 1)
        let at = LifecycleClock(now: 2 * Self.day)
        #expect(!configuration.expiresCurrent(key: "a/x", sizeBytes: 5, lastModifiedTime: 0, tags: [], clock: before))
        #expect(configuration.expiresCurrent(key: "a/x", sizeBytes: 5, lastModifiedTime: 0, tags: [], clock: at))
        #expect(!configuration.expiresCurrent(key: "a/x", sizeBytes: 100, lastModifiedTime: 0, tags: [], clock: at))
        #expect(!configuration.expiresCurrent(key: "b/x", sizeBytes: 5, lastModifiedTime: 0, tags: [], clock: at))
        // Tags: only with the rule's tag, and only when asked for.
        #expect(configuration.needsTags(key: "b/x", sizeBytes: 5))
        #expect(configuration.expiresCurrent(key: "b/x", sizeBytes: 5, lastModifiedTime: 0,
                                             tags: [TagSet.Tag(key: "tmp", value: "yes")], clock: LifecycleClock(now: Self.day)))
        #expect(!configuration.expiresCurrent(key: "b/x", sizeBytes: 5, lastModifiedTime: 0,
                                              tags: [TagSet.Tag(key: "tmp", value: "no")], clock: at))
        // Noncurrent: counted from the successor's time, the newest noncurrent one kept.
        #expect(!configuration.expiresNoncurrent(key: "a/x", sizeBytes: 5, noncurrentSince: Self.day, newerNoncurrentCount: 1,
                                                 tags: [], clock: LifecycleClock(now: 2 * Self.day - 1)))
        #expect(configuration.expiresNoncurrent(key: "a/x", sizeBytes: 5, noncurrentSince: Self.day, newerNoncurrentCount: 1,
                                                tags: [], clock: at))
        #expect(!configuration.expiresNoncurrent(key: "a/x", sizeBytes: 5, noncurrentSince: Self.day, newerNoncurrentCount: 0,
                                                 tags: [], clock: at))
        #expect(configuration.removesExpiredMarker(key: "m/k", lastModifiedTime: 0, clock: before))
        // Under a days rule a lone marker goes once it is that old.
        #expect(!configuration.removesExpiredMarker(key: "a/k", lastModifiedTime: 0, clock: before))
        #expect(configuration.removesExpiredMarker(key: "a/k", lastModifiedTime: 0, clock: at))
        #expect(!configuration.removesExpiredMarker(key: "z/k", lastModifiedTime: 0, clock: at))
        #expect(configuration.actsOnUploads)
        #expect(!configuration.abortsUpload(key: "a/u", initiatedTime: Self.day, clock: before))
        #expect(configuration.abortsUpload(key: "a/u", initiatedTime: Self.day, clock: at))
        #expect(!configuration.abortsUpload(key: "b/u", initiatedTime: 0, clock: at))
    }
}
