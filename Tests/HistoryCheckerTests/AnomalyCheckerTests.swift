import HistoryChecker
import Testing

@Suite("List-append and set checkers")
struct AnomalyCheckerTests {
    func names(_ report: AnomalyReport) -> Set<String> {
        Set(report.counts.filter { $0.value > 0 }.map(\.key.rawValue))
    }

    /// A valid list-append history on one key, to which each test adds one anomaly.
    func appendBase() -> EventLog {
        var log = EventLog()
        log.op(0, "append", "a", from: 0, to: 1)
        log.op(1, "append", "b", from: 2, to: 3)
        log.op(2, "read", .ok, result: ["a", "b"], from: 4, to: 5)
        return log
    }

    /// Goal: a valid list-append history, including an info append that is observed once and then stays,
    /// has no anomaly. Method: appends, reads growing by prefix.
    @Test func validListAppendHistory() throws {
        var log = appendBase()
        log.add(3, .invoke, "append", "c", at: 6)
        log.add(3, .info, "append", "c", at: 7)
        log.op(2, "read", .ok, result: ["a", "b", "c"], from: 8, to: 9)
        log.op(0, "read", .ok, result: ["a", "b", "c"], from: 10, to: 11)
        let report = try ListAppendChecker.check(log.events)
        #expect(report.isValid, "\(report.anomalies)")
        #expect(report.operationCount == 6)
    }

    /// Goal: each list-append anomaly is flagged by its name. Method: one small history per anomaly.
    @Test func listAppendAnomaliesByName() throws {
        var order = appendBase()
        order.op(3, "read", .ok, result: ["b", "a"], from: 6, to: 7)
        #expect(names(try ListAppendChecker.check(order.events)) == ["incompatible-order"])

        var duplicate = appendBase()
        duplicate.op(3, "read", .ok, result: ["a", "a", "b"], from: 6, to: 7)
        #expect(names(try ListAppendChecker.check(duplicate.events)).contains("duplicate-element"))

        var garbage = appendBase()
        garbage.op(3, "read", .ok, result: ["a", "b", "zzz"], from: 6, to: 7)
        #expect(names(try ListAppendChecker.check(garbage.events)) == ["garbage-element"])

        var aborted = appendBase()
        aborted.op(4, "append", "c", .fail, from: 6, to: 7, http: 412)
        aborted.op(3, "read", .ok, result: ["a", "b", "c"], from: 8, to: 9)
        #expect(names(try ListAppendChecker.check(aborted.events)) == ["aborted-read"])

        var stale = appendBase()
        stale.op(3, "read", .ok, result: ["a"], from: 6, to: 7)  // [a b] completed at 5
        #expect(names(try ListAppendChecker.check(stale.events)).contains("stale-read"))

        var lost = EventLog()
        lost.op(0, "append", "a", from: 0, to: 1)
        lost.op(1, "append", "b", from: 2, to: 3)
        lost.op(2, "read", .ok, result: ["a"], from: 4, to: 5)  // b was acknowledged at 3
        #expect(names(try ListAppendChecker.check(lost.events)) == ["lost-append"])
    }

    /// A valid set history on one set.
    func setBase() -> EventLog {
        var log = EventLog()
        log.op(0, "add", key: "s", "1", from: 0, to: 1)
        log.op(1, "add", key: "s", "2", from: 2, to: 3)
        log.op(2, "read", key: "s", .ok, result: ["1", "2"], from: 4, to: 5)
        return log
    }

    /// Goal: a valid set-full history, including a read concurrent with an add that may miss it, and an info
    /// add that appears and stays, has no anomaly.
    @Test func validSetHistory() throws {
        var log = setBase()
        log.add(3, .invoke, "add", key: "s", "3", at: 6)
        log.op(2, "read", key: "s", .ok, result: ["1", "2"], from: 7, to: 8)  // concurrent with add 3
        log.add(3, .info, "add", key: "s", "3", at: 9)
        log.op(2, "read", key: "s", .ok, result: ["3", "1", "2"], from: 10, to: 11)
        log.op(0, "read", key: "s", .ok, result: ["1", "2", "3"], from: 12, to: 13)
        let report = try SetChecker.check(log.events)
        #expect(report.isValid, "\(report.anomalies)")
    }

    /// Goal: each set anomaly is flagged by its name. Method: one small history per anomaly.
    @Test func setAnomaliesByName() throws {
        var garbage = setBase()
        garbage.op(3, "read", key: "s", .ok, result: ["1", "2", "9"], from: 6, to: 7)
        #expect(names(try SetChecker.check(garbage.events)) == ["garbage-element"])

        var duplicate = setBase()
        duplicate.op(3, "read", key: "s", .ok, result: ["1", "2", "2"], from: 6, to: 7)
        #expect(names(try SetChecker.check(duplicate.events)) == ["duplicate-element"])

        var aborted = setBase()
        aborted.op(4, "add", key: "s", "3", .fail, from: 6, to: 7, http: 404)
        aborted.op(3, "read", key: "s", .ok, result: ["1", "2", "3"], from: 8, to: 9)
        #expect(names(try SetChecker.check(aborted.events)) == ["aborted-read"])

        var stale = EventLog()
        stale.op(0, "add", key: "s", "1", from: 0, to: 1)
        stale.op(1, "read", key: "s", .ok, result: [], from: 2, to: 3)  // add 1 acknowledged at 1
        #expect(names(try SetChecker.check(stale.events)) == ["stale-read"])

        var lost = EventLog()
        lost.add(0, .invoke, "add", key: "s", "1", at: 0)
        lost.add(0, .info, "add", key: "s", "1", at: 1)
        lost.op(1, "read", key: "s", .ok, result: ["1"], from: 2, to: 3)
        lost.op(1, "read", key: "s", .ok, result: [], from: 4, to: 5)
        lost.op(2, "read", key: "s", .ok, result: [], from: 6, to: 7)
        #expect(names(try SetChecker.check(lost.events)) == ["lost-element"])

        var flicker = EventLog()
        flicker.op(0, "add", key: "s", "1", from: 0, to: 10)
        flicker.op(1, "read", key: "s", .ok, result: ["1"], from: 2, to: 3)
        flicker.op(1, "read", key: "s", .ok, result: [], from: 4, to: 5)
        flicker.op(1, "read", key: "s", .ok, result: ["1"], from: 6, to: 7)
        #expect(names(try SetChecker.check(flicker.events)) == ["flicker"])
    }
}
