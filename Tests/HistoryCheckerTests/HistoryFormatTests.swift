import Foundation
import HistoryChecker
import Testing

@Suite("silo-history/1 format")
struct HistoryFormatTests {
    func sampleHeader() -> HistoryHeader {
        HistoryHeader(
            test: "register+kill", seed: 1_234_567, git: "abc123", startedWall: "2026-11-24T00:00:00Z",
            nodes: ["meta": ["m1", "m2", "m3"], "gw": ["g1"]],
            config: ["concurrency": 10, "nemesis": ["partition", "kill"]])
    }

    func sampleEvents() -> [HistoryEvent] {
        [
            HistoryEvent(
                type: .invoke, process: 3, f: "cas", key: "r/7", value: ["from": "run1/3/11", "to": "run1/3/12"],
                time: 1_834_500_123, gateway: "g2"),
            HistoryEvent(
                type: .ok, process: 3, f: "cas", key: "r/7", value: ["from": "run1/3/11", "to": "run1/3/12"],
                time: 1_834_912_004, gateway: "g2", http: 200, etag: "\"9b\"", requestID: "req-1"),
            HistoryEvent(type: .fail, process: 4, f: "create", key: "r/7", time: 1_835_000_777, http: 412, error: "PreconditionFailed"),
            HistoryEvent(type: .invoke, process: 5, f: "get", key: "r/8", time: 1_835_000_800),
            HistoryEvent(type: .ok, process: 5, f: "get", key: "r/8", value: .null, time: 1_835_000_900),
            HistoryEvent(
                kind: .nemesis, type: .info, process: nil, f: "start-partition",
                value: ["grudge": ["m1": ["m2", "m3"]], "spec": "one"], time: 1_846_000_000),
            HistoryEvent(
                kind: .raft, type: .info, process: nil, f: "commit", time: 1_846_000_001,
                extra: ["node": "m1", "term": 3, "weird \"key\"\n": "tab\there é ✓"]),
        ]
    }

    /// Goal: what the writer writes, the reader reads back unchanged, in memory and through a file, and the
    /// header line matches JEPSEN-SPEC §6.5. Method: a header and events using every field, nulls, nested
    /// values, extra fields and escapes.
    @Test func writerAndReaderRoundTrip() throws {
        let writer = HistoryWriter(header: sampleHeader())
        for event in sampleEvents() { try writer.append(event) }
        let history = try HistoryReader.parse(text: writer.text)
        #expect(history.header == sampleHeader())
        var expected = sampleEvents()
        for i in expected.indices { expected[i].index = i }
        #expect(history.events == expected)
        let firstLine = try #require(writer.text.split(separator: "\n").first)
        #expect(firstLine.hasPrefix("{\"kind\":\"header\",\"format\":\"silo-history/1\",\"test\":\"register+kill\",\"seed\":1234567"))
        let secondLine = writer.text.split(separator: "\n")[1]
        #expect(secondLine.hasPrefix("{\"index\":0,\"kind\":\"op\",\"type\":\"invoke\",\"process\":3,\"f\":\"cas\",\"key\":\"r/7\""))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UInt64.random(in: 0...UInt64.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileWriter = try HistoryWriter(header: sampleHeader(), path: path)
        for event in sampleEvents() { try fileWriter.append(event) }
        try fileWriter.close()
        let fromFile = try HistoryReader.read(path: path)
        #expect(fromFile == history)
    }

    /// Goal: the streaming reader crosses its read-chunk boundaries correctly. Method: 20,000 events
    /// (several 64 KiB chunks) through a file, read back one by one with `next()`.
    @Test func streamingReaderAcrossChunks() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UInt64.random(in: 0...UInt64.max)).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try HistoryWriter(header: sampleHeader(), path: path)
        for i in 0..<20_000 {
            try writer.append(HistoryEvent(type: .invoke, process: i % 7, f: "put", key: "k\(i % 13)", value: .string("v\(i)"), time: Int64(i)))
        }
        try writer.close()
        let reader = try HistoryReader(path: path)
        var count = 0
        while let event = try reader.next() {
            #expect(event.index == count)
            #expect(event.value == .string("v\(count)"))
            count += 1
        }
        #expect(count == 20_000)
    }

    /// Goal: malformed input is an error that says what is wrong, never a silent skip. Method: a table of
    /// bad files.
    @Test func malformedHistoriesAreErrors() throws {
        let header = "{\"kind\":\"header\",\"format\":\"silo-history/1\",\"test\":\"t\",\"seed\":1}\n"
        #expect(throws: HistoryError.missingHeader) { try HistoryReader.parse(text: "{\"index\":0}\n") }
        #expect(throws: HistoryError.unsupportedFormat("silo-history/2")) {
            try HistoryReader.parse(text: "{\"kind\":\"header\",\"format\":\"silo-history/2\"}\n")
        }
        #expect(throws: HistoryError.indexNotIncreasing(index: 3, previous: 5)) {
            try HistoryReader.parse(
                text: header + "{\"index\":5,\"kind\":\"op\",\"type\":\"invoke\",\"process\":1,\"f\":\"get\",\"time\":1}\n"
                    + "{\"index\":3,\"kind\":\"op\",\"type\":\"ok\",\"process\":1,\"f\":\"get\",\"time\":2}\n")
        }
        let badLines = [
            "{\"index\":0,\"kind\":\"op\",\"type\":\"invoke\",\"f\":\"get\",\"time\":1}",  // op without process
            "{\"index\":0,\"kind\":\"op\",\"type\":\"maybe\",\"process\":1,\"f\":\"get\",\"time\":1}",
            "{\"index\":0,\"kind\":\"op\",\"type\":\"ok\",\"process\":1,\"f\":\"get\",\"time\":1",  // truncated
            "[1, 2]",
        ]
        for line in badLines {
            #expect(throws: HistoryError.self) { try HistoryReader.parse(text: header + line + "\n") }
        }
        // A completion without an invoke, or two invokes in a row, is an error when pairing.
        var log = EventLog()
        log.add(1, .ok, "get", at: 1)
        #expect(throws: HistoryError.self) { try HistoryPairing.pairs(log.events) }
        var twice = EventLog()
        twice.add(1, .invoke, "get", at: 1)
        twice.add(1, .invoke, "get", at: 2)
        #expect(throws: HistoryError.self) { try HistoryPairing.pairs(twice.events) }
        var backwards = EventLog()
        backwards.add(1, .invoke, "get", at: 5)
        backwards.add(1, .ok, "get", .null, at: 4)
        #expect(throws: HistoryError.self) { try HistoryPairing.pairs(backwards.events) }
    }

    /// Goal: JSON values survive parse and print. Method: a table of texts, including escapes and surrogate
    /// pairs, parsed and printed again.
    @Test func jsonValues() throws {
        #expect(try JSONValue(parsing: " {\"b\": [1, -2.5, true, null], \"a\": \"x\\u00e9\\ud83d\\ude00\\n\"} ").jsonText
            == "{\"a\":\"xé😀\\n\",\"b\":[1,-2.5,true,null]}")
        #expect(try JSONValue(parsing: "9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue(parsing: "1e3") == .double(1000))
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"\\x\"", "01a", "\"\u{01}\""] {
            #expect(throws: HistoryError.self, "\(bad)") { try JSONValue(parsing: bad) }
        }
    }

    /// Goal: fault windows come from start-/stop- nemesis lines. Method: two faults, one never stopped.
    @Test func nemesisWindows() {
        var log = EventLog()
        log.nemesis("start-partition", at: 10)
        log.nemesis("start-kill", at: 15)
        log.nemesis("stop-partition", at: 20)
        let windows = HistoryPairing.nemesisWindows(log.events)
        #expect(windows.map(\.name) == ["partition", "kill"])
        #expect(windows[0].startTime == 10 && windows[0].stopTime == 20)
        #expect(windows[1].stopTime == nil)
    }
}

@Suite("HTML timeline")
struct TimelineReportTests {
    /// Goal: the HTML report of a failure shows the processes, the nemesis window, the failing window, the
    /// numbered partial linearization and the operation that could not be placed. Method: render a small
    /// illegal S3 register history and look for those elements in the page.
    @Test func illegalHistoryReport() throws {
        var log = EventLog()
        log.op(0, "put", "a", from: 0, to: 10)
        log.nemesis("start-partition", at: 12)
        log.op(1, "put", "b", from: 20, to: 30)
        log.op(2, "get", .ok, result: "a", from: 40, to: 50)
        log.nemesis("stop-partition", at: 60)
        let operations = try S3RegisterModel.operations(from: log.events)
        let report = LinearizabilityChecker(model: S3RegisterModel()).check(operations)
        let page = TimelineReport.linearizability(
            model: S3RegisterModel(), operations: operations, report: report,
            nemesis: HistoryPairing.nemesisWindows(log.events), title: "demo <check>"
        ).html()
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("demo &lt;check&gt;"))
        #expect(page.contains("ILLEGAL"))
        for process in 0...2 { #expect(page.contains("process \(process)</text>")) }
        #expect(page.contains("class='nemesis'"))
        #expect(page.contains("class='window'"))
        #expect(page.contains("bar ok lin"))
        #expect(page.contains("bar ok stuck"))
        #expect(page.contains("could not place next: process 2 [40, 50] [k] get -&gt; a"))
        #expect(!page.contains("<script"))
    }

    /// Goal: an anomaly report marks the operations involved. Method: a lost append.
    @Test func anomalyReport() throws {
        var log = EventLog()
        log.op(0, "append", "x", from: 0, to: 1)
        log.op(1, "read", .ok, result: [], from: 2, to: 3)
        let report = try ListAppendChecker.check(log.events)
        let page = TimelineReport.anomalies(
            checker: "K-append", pairs: try HistoryPairing.pairs(log.events), report: report, title: "append").html()
        #expect(page.contains("lost-append"))
        #expect(page.contains("anomaly"))
    }
}
