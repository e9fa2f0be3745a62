/// The W2 list-append checker (JEPSEN-SPEC §6.3): per key, every read must be a prefix of the longest read,
/// with no duplicate, garbage or aborted elements, no read shorter than one that completed before it began,
/// and no acknowledged append missing from a read that began after the append returned. O(n log n), no
/// search.
///
/// History shape: `f: "append"` with `value` the element (unique per append); `f: "read"` whose `ok`
/// completion has `value` the list as a JSON array. Other `f`s are ignored. Failed and indeterminate reads
/// are ignored; an `info` append may or may not appear, but once seen it must stay (which the prefix and
/// stale-read rules enforce).
public enum ListAppendChecker {
    /// Checks every key of the history.
    public static func check(_ events: [HistoryEvent]) throws(HistoryError) -> AnomalyReport {
        let start = ContinuousClock.now
        let operations = try KeyedOperations.collect(events, writeFunction: "append")
        var collector = AnomalyCollector()
        for key in operations.keys {
            let history = KeyHistory(appends: operations.writes[key] ?? [], reads: operations.reads[key] ?? [])
            history.check(key: key, into: &collector)
        }
        let operationCount = operations.operationCount
        return AnomalyReport(
            anomalies: collector.anomalies, counts: collector.counts, operationCount: operationCount,
            elapsed: ContinuousClock.now - start)
    }
}

struct AppendOp {
    var element: String
    var pair: OperationPair
}

struct ReadOp {
    var elements: [String]
    var invokeTime: Int64
    var completeTime: Int64
    /// The invoke event's index.
    var index: Int
}

/// One key's operations and the checks over them.
struct KeyHistory {
    var appends: [AppendOp] = []
    var reads: [ReadOp] = []

    func check(key: String, into collector: inout AnomalyCollector) {
        var appendOf: [String: AppendOp] = [:]
        for append in appends { appendOf[append.element] = append }
        checkElements(key: key, appendOf: appendOf, into: &collector)

        guard let longest = reads.indices.max(by: { reads[$0].elements.count < reads[$1].elements.count }) else {
            return
        }
        let longestList = reads[longest].elements
        var consistent: [Int] = []  // reads that are prefixes of the longest
        for (i, read) in reads.enumerated() {
            if let mismatch = firstMismatch(read.elements, longestList) {
                collector.add(
                    .incompatibleOrder, key: key,
                    "read \(describe(read.elements)) differs at position \(mismatch) from the longest read "
                        + describe(longestList), events: [read.index, reads[longest].index])
            } else {
                consistent.append(i)
            }
        }
        checkStaleReads(key: key, consistent: consistent, into: &collector)
        checkLostAppends(key: key, consistent: consistent, longest: longestList, into: &collector)
    }

    private func checkElements(key: String, appendOf: [String: AppendOp], into collector: inout AnomalyCollector) {
        for read in reads {
            var seen: Set<String> = []
            for element in read.elements {
                if !seen.insert(element).inserted {
                    collector.add(
                        .duplicateElement, key: key, "read shows '\(element)' more than once: \(describe(read.elements))",
                        events: [read.index])
                }
                guard let append = appendOf[element] else {
                    collector.add(
                        .garbageElement, key: key, "read shows '\(element)', which no operation appended",
                        events: [read.index])
                    continue
                }
                if append.pair.outcome == .fail {
                    collector.add(
                        .abortedRead, key: key, "read shows '\(element)', whose append failed",
                        events: [read.index, append.pair.invoke.index])
                }
            }
        }
    }

    /// A read must be at least as long as every read that completed before it was invoked.
    private func checkStaleReads(key: String, consistent: [Int], into collector: inout AnomalyCollector) {
        let byCompletion = consistent.sorted { reads[$0].completeTime < reads[$1].completeTime }
        var longestSoFar: [Int] = []  // index into reads of the longest among byCompletion[0...i]
        for i in byCompletion {
            if let last = longestSoFar.last, reads[last].elements.count >= reads[i].elements.count {
                longestSoFar.append(last)
            } else {
                longestSoFar.append(i)
            }
        }
        let completions = byCompletion.map { reads[$0].completeTime }
        for i in consistent {
            let read = reads[i]
            let before = countLess(completions, than: read.invokeTime)
            guard before > 0 else { continue }
            let earlier = reads[longestSoFar[before - 1]]
            if earlier.elements.count > read.elements.count {
                collector.add(
                    .staleRead, key: key,
                    "read \(describe(read.elements)) invoked at \(read.invokeTime) is shorter than read "
                        + "\(describe(earlier.elements)) completed at \(earlier.completeTime)",
                    events: [earlier.index, read.index])
            }
        }
    }

    /// A read must contain every append acknowledged before it was invoked.
    private func checkLostAppends(
        key: String, consistent: [Int], longest: [String], into collector: inout AnomalyCollector
    ) {
        var position: [String: Int] = [:]
        for (i, element) in longest.enumerated() where position[element] == nil { position[element] = i }
        let acknowledged = appends.filter { $0.pair.isOK }.sorted { $0.pair.completion!.time < $1.pair.completion!.time }
        var furthest: [Int] = []  // index into acknowledged of the furthest position so far
        for (i, append) in acknowledged.enumerated() {
            let p = position[append.element] ?? Int.max
            if let last = furthest.last, (position[acknowledged[last].element] ?? Int.max) >= p {
                furthest.append(last)
            } else {
                furthest.append(i)
            }
        }
        let completions = acknowledged.map { $0.pair.completion!.time }
        for i in consistent {
            let read = reads[i]
            let before = countLess(completions, than: read.invokeTime)
            guard before > 0 else { continue }
            let append = acknowledged[furthest[before - 1]]
            let p = position[append.element] ?? Int.max
            if p >= read.elements.count {
                collector.add(
                    .lostAppend, key: key,
                    "append of '\(append.element)' was acknowledged at \(append.pair.completion!.time), before read "
                        + "\(describe(read.elements)) was invoked at \(read.invokeTime), which lacks it",
                    events: [append.pair.invoke.index, read.index])
            }
        }
    }
}

/// The first position where `list` is not a prefix of `longest`, or nil if it is one.
func firstMismatch(_ list: [String], _ longest: [String]) -> Int? {
    if list.count > longest.count { return longest.count }
    for i in list.indices where list[i] != longest[i] { return i }
    return nil
}

/// How many elements of the sorted array are strictly less than `value`.
func countLess(_ sorted: [Int64], than value: Int64) -> Int {
    var low = 0
    var high = sorted.count
    while low < high {
        let mid = (low + high) / 2
        if sorted[mid] < value { low = mid + 1 } else { high = mid }
    }
    return low
}

/// A list for messages, shortened in the middle when long.
func describe(_ list: [String]) -> String {
    if list.count <= 8 { return "[" + list.joined(separator: " ") + "]" }
    return "[" + list.prefix(3).joined(separator: " ") + " ... " + list.suffix(3).joined(separator: " ")
        + "] (\(list.count) elements)"
}
