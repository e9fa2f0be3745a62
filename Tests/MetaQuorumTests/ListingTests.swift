import Foundation
import Testing

@testable import MetaQuorum

/// Goal: listObjects (range scan plus seek-based delimiter roll-up) equals a naive in-memory listing, for
/// random keys full of `/` runs, control characters and non-ASCII, random prefixes, delimiters, markers and
/// page sizes; and paging with nextMarker visits every entry exactly once.
/// Method: check_against_naive, seeded.
@Suite("Listing against a naive model")
struct ListingTests {
    static func bytesLess(_ left: String, _ right: String) -> Bool {
        Array(left.utf8).lexicographicallyPrecedes(Array(right.utf8))
    }

    /// All entries (keys or common prefixes) the query could return, in order, ignoring maxKeys.
    static func naiveEntries(keys: [String], prefix: String, delimiter: String, startAfter: String) -> [(String, Bool)]
    {
        var entries: [(String, Bool)] = []
        let prefixBytes = Array(prefix.utf8)
        for key in keys.sorted(by: bytesLess) {
            let bytes = Array(key.utf8)
            guard bytes.starts(with: prefixBytes) else { continue }
            var entry = (key, false)
            if !delimiter.isEmpty {
                let rest = bytes[prefixBytes.count...]
                let delimiterBytes = Array(delimiter.utf8)
                var index = rest.startIndex
                while index + delimiterBytes.count <= rest.endIndex {
                    if rest[index..<(index + delimiterBytes.count)].elementsEqual(delimiterBytes) {
                        entry = (String(decoding: bytes[..<(index + delimiterBytes.count)], as: UTF8.self), true)
                        break
                    }
                    index += 1
                }
            }
            guard bytesLess(startAfter, entry.0) else { continue }
            if let last = entries.last, last.0 == entry.0 { continue }
            entries.append(entry)
        }
        return entries
    }

    static func naivePage(keys: [String], query: ListObjectsQuery) -> (
        keys: [String], prefixes: [String], truncated: Bool, next: String?
    ) {
        let entries = naiveEntries(
            keys: keys, prefix: query.prefix, delimiter: query.delimiter, startAfter: query.startAfter)
        let page = entries.prefix(query.maxKeys)
        let truncated = query.maxKeys > 0 && entries.count > query.maxKeys
        return (
            page.filter { !$0.1 }.map(\.0), page.filter { $0.1 }.map(\.0), truncated, truncated ? page.last?.0 : nil
        )
    }

    static func randomKey(_ random: inout RandomValues) -> String {
        let pieces = ["a", "b", "/", "//", "é", "日", "\u{0}", "\u{1}", "\u{7F}", "ab", "a/", "~", "🦊", " "]
        var key = ""
        for _ in 0..<random.int(1...6) { key += pieces[random.int(0...(pieces.count - 1))] }
        return key
    }

    @Test func randomListingsMatchNaive() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        var random = RandomValues(seed: 7)
        try driver.apply(.createBucket(envelope("bucket"), name: "b"))
        try driver.apply(.createBucket(envelope("other"), name: "c"))
        var keys = Set<String>()
        var commands: [MetaCommand] = []
        for index in 0..<400 {
            let key = Self.randomKey(&random)
            keys.insert(key)
            commands.append(
                .putObject(
                    envelope("put-\(index)"), object: objectRecord(bucket: "b", key: key), precondition: .none,
                    startedTime: testStartTime))
        }
        // Keys in another bucket must never show up.
        commands.append(
            .putObject(
                envelope("put-c"), object: objectRecord(bucket: "c", key: "a"), precondition: .none,
                startedTime: testStartTime))
        for result in try driver.applyBatch(commands) { #expect(result == .done || result == .stored(versionID: nil)) }
        let keyList = Array(keys)
        let delimiters = ["", "/", "//", "a", "é", "\u{0}"]
        for round in 0..<600 {
            let base = keyList[random.int(0...(keyList.count - 1))]
            let baseBytes = Array(base.utf8)
            let prefix: String =
                switch random.int(0...3) {
                case 0: ""
                case 1: String(decoding: baseBytes[..<random.int(0...baseBytes.count)], as: UTF8.self)
                case 2: Self.randomKey(&random)
                default: "a"
                }
            let startAfter: String =
                switch random.int(0...3) {
                case 0: ""
                case 1: keyList[random.int(0...(keyList.count - 1))]
                case 2: Self.randomKey(&random)
                default: prefix
                }
            let maxKeys = [0, 1, 2, 3, 5, 10, 1000][random.int(0...6)]
            let query = ListObjectsQuery(
                bucket: "b", prefix: prefix, delimiter: delimiters[random.int(0...5)],
                startAfter: startAfter, maxKeys: maxKeys)
            let page = try driver.machine.listObjects(query, requester: "alice")
            let expected = Self.naivePage(keys: keyList, query: query)
            #expect(page.objects.map(\.key) == expected.keys, "round \(round): \(query)")
            #expect(page.commonPrefixes == expected.prefixes, "round \(round): \(query)")
            #expect(page.isTruncated == expected.truncated, "round \(round): \(query)")
            #expect(page.nextMarker == expected.next, "round \(round): \(query)")
            #expect(page.objects.allSatisfy { $0.owner == "alice" })
        }
    }

    // Goal: following nextMarker page by page yields the full naive listing once.
    @Test func pagingVisitsEveryEntryOnce() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        var random = RandomValues(seed: 8)
        try driver.apply(.createBucket(envelope("bucket"), name: "b"))
        var keys = Set<String>()
        var commands: [MetaCommand] = []
        for index in 0..<300 {
            let key = Self.randomKey(&random)
            keys.insert(key)
            commands.append(
                .putObject(
                    envelope("put-\(index)"), object: objectRecord(bucket: "b", key: key),
                    precondition: .none, startedTime: testStartTime))
        }
        _ = try driver.applyBatch(commands)
        for delimiter in ["", "/", "a"] {
            for pageSize in [1, 2, 7] {
                var collected: [String] = []
                var marker = ""
                var pages = 0
                while true {
                    let page = try driver.machine.listObjects(
                        ListObjectsQuery(
                            bucket: "b", prefix: "", delimiter: delimiter, startAfter: marker, maxKeys: pageSize),
                        requester: "alice")
                    #expect(page.objects.count + page.commonPrefixes.count <= pageSize)
                    let entries = (page.objects.map(\.key) + page.commonPrefixes).sorted(by: Self.bytesLess)
                    collected += entries
                    pages += 1
                    guard page.isTruncated, let next = page.nextMarker else { break }
                    #expect(next == entries.last)
                    marker = next
                    try #require(pages < 1000)
                }
                let expected = Self.naiveEntries(keys: Array(keys), prefix: "", delimiter: delimiter, startAfter: "")
                    .map(\.0)
                #expect(collected == expected, "delimiter \(delimiter) page \(pageSize)")
            }
        }
    }

    // Goal: the documented S3 examples of roll-up, by hand.
    @Test func delimiterExamples() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        try driver.apply(.createBucket(envelope("bucket"), name: "b"))
        let keys = [
            "photos/2006/January/sample.jpg", "photos/2006/February/sample2.jpg", "photos/2006/index.html",
            "photos/x", "sample.jpg", "z//y", "z//z",
        ]
        _ = try driver.applyBatch(
            keys.enumerated().map {
                .putObject(
                    envelope("p\($0.offset)"), object: objectRecord(bucket: "b", key: $0.element), precondition: .none,
                    startedTime: testStartTime)
            })
        let top = try driver.machine.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "", delimiter: "/", startAfter: "", maxKeys: 1000), requester: "alice"
        )
        #expect(top.commonPrefixes == ["photos/", "z/"])
        #expect(top.objects.map(\.key) == ["sample.jpg"])
        let year = try driver.machine.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "photos/2006/", delimiter: "/", startAfter: "", maxKeys: 1000),
            requester: "alice")
        #expect(year.commonPrefixes == ["photos/2006/February/", "photos/2006/January/"])
        #expect(year.objects.map(\.key) == ["photos/2006/index.html"])
        // Common prefixes count toward max-keys, and the marker may be a common prefix.
        let first = try driver.machine.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "", delimiter: "/", startAfter: "", maxKeys: 1), requester: "alice")
        #expect(first.commonPrefixes == ["photos/"])
        #expect(first.isTruncated)
        #expect(first.nextMarker == "photos/")
        let second = try driver.machine.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "", delimiter: "/", startAfter: "photos/", maxKeys: 1),
            requester: "alice")
        #expect(second.objects.map(\.key) == ["sample.jpg"])
        let slashes = try driver.machine.listObjects(
            ListObjectsQuery(bucket: "b", prefix: "z/", delimiter: "/", startAfter: "", maxKeys: 1000),
            requester: "alice")
        #expect(slashes.commonPrefixes == ["z//"])
        #expect(throws: MetaError.self) {
            try driver.machine.listObjects(
                ListObjectsQuery(bucket: "b", prefix: "", delimiter: "", startAfter: "", maxKeys: 1001),
                requester: "alice")
        }
    }
}
