/// The W3 set checker: Jepsen's `set-full` with `linearizable? true` (JEPSEN-SPEC §6.3). Per set:
/// - every element a read shows was added (else `garbage-element`, or `aborted-read` if its add failed),
///   and only once (`duplicate-element`);
/// - a read misses no element whose add was acknowledged before the read was invoked (`stale-read`);
/// - once a completed read has shown an element, every read invoked later shows it: a later read without
///   it is a `flicker` if the element is seen again afterwards, else a `lost-element`.
/// O(n log n) plus the size of the reads, no search.
///
/// History shape: `f: "add"` with `value` the element (unique); `f: "read"` whose `ok` completion has
/// `value` the elements as a JSON array; `key` names the set. Info adds may appear; once seen they must stay.
public enum SetChecker {
    /// Checks every set of the history.
    public static func check(_ events: [HistoryEvent]) throws(HistoryError) -> AnomalyReport {
        let start = ContinuousClock.now
        let operations = try KeyedOperations.collect(events, writeFunction: "add")
        var collector = AnomalyCollector()
        for key in operations.keys {
            let history = SetHistory(adds: operations.writes[key] ?? [], reads: operations.reads[key] ?? [])
            history.check(key: key, into: &collector)
        }
        let operationCount = operations.operationCount
        return AnomalyReport(
            anomalies: collector.anomalies, counts: collector.counts, operationCount: operationCount,
            elapsed: ContinuousClock.now - start)
    }
}

/// One set's operations and the checks over them.
struct SetHistory {
    var adds: [AppendOp] = []
    var reads: [ReadOp] = []

    /// When each element became known to be in the set, and how.
    private struct Knowledge {
        /// Completion time of its acknowledged add, if any.
        var acknowledged: Int64?
        /// Completion time of the first completed read that showed it, and that read's index.
        var observed: (time: Int64, index: Int)?
        /// Invoke time of the last read that showed it.
        var lastSeenInvoke: Int64 = .min
        var addIndex: Int

        var knownTime: Int64? {
            switch (acknowledged, observed?.time) {
            case (let a?, let o?): return min(a, o)
            case (let a?, nil): return a
            case (nil, let o?): return o
            case (nil, nil): return nil
            }
        }
    }

    func check(key: String, into collector: inout AnomalyCollector) {
        var knowledge: [String: Knowledge] = [:]
        var addOf: [String: AppendOp] = [:]
        for add in adds {
            addOf[add.element] = add
            knowledge[add.element] = Knowledge(
                acknowledged: add.pair.isOK ? add.pair.completion!.time : nil, observed: nil, addIndex: add.pair.invoke.index)
        }
        var readSets: [Set<String>] = []
        for read in reads {
            var seen: Set<String> = []
            for element in read.elements {
                if !seen.insert(element).inserted {
                    collector.add(
                        .duplicateElement, key: key, "read shows '\(element)' more than once", events: [read.index])
                    continue
                }
                guard let add = addOf[element] else {
                    collector.add(
                        .garbageElement, key: key, "read shows '\(element)', which no operation added",
                        events: [read.index])
                    continue
                }
                if add.pair.outcome == .fail {
                    collector.add(
                        .abortedRead, key: key, "read shows '\(element)', whose add failed",
                        events: [read.index, add.pair.invoke.index])
                }
                var k = knowledge[element]!
                if k.observed == nil || read.completeTime < k.observed!.time {
                    k.observed = (read.completeTime, read.index)
                }
                k.lastSeenInvoke = max(k.lastSeenInvoke, read.invokeTime)
                knowledge[element] = k
            }
            readSets.append(seen)
        }
        checkMissing(key: key, knowledge: knowledge, readSets: readSets, into: &collector)
    }

    /// Every read must show every element known before it was invoked.
    private func checkMissing(
        key: String, knowledge: [String: Knowledge], readSets: [Set<String>], into collector: inout AnomalyCollector
    ) {
        // Elements sorted by the time they became known (ties by name, for a deterministic report).
        let known = knowledge.compactMap { e, k in k.knownTime.map { (element: e, time: $0) } }
            .sorted { ($0.time, $0.element) < ($1.time, $1.element) }
        let knownTimes = known.map(\.time)
        var reportedLoss: Set<String> = []
        for (r, read) in reads.enumerated() {
            let due = countLess(knownTimes, than: read.invokeTime)
            let present = readSets[r].reduce(0) { count, e in
                count + ((knowledge[e]?.knownTime).map { $0 < read.invokeTime ? 1 : 0 } ?? 0)
            }
            guard present < due else { continue }
            var stale: [String] = []
            for (element, _) in known.prefix(due) where !readSets[r].contains(element) {
                let k = knowledge[element]!
                guard let observed = k.observed, observed.time < read.invokeTime else {
                    stale.append(element)
                    continue
                }
                guard reportedLoss.insert(element).inserted else { continue }
                if k.lastSeenInvoke > read.invokeTime {
                    collector.add(
                        .flicker, key: key,
                        "'\(element)' was shown by a read completed at \(observed.time), missing from a read invoked "
                            + "at \(read.invokeTime), and shown again later",
                        events: [observed.index, read.index])
                } else {
                    collector.add(
                        .lostElement, key: key,
                        "'\(element)' was shown by a read completed at \(observed.time), then missing from the read "
                            + "invoked at \(read.invokeTime) and never seen again",
                        events: [observed.index, read.index])
                }
            }
            if !stale.isEmpty {
                collector.add(
                    .staleRead, key: key,
                    "read invoked at \(read.invokeTime) misses \(stale.count) acknowledged add(s): "
                        + describe(stale),
                    events: [read.index] + stale.prefix(8).map { knowledge[$0]!.addIndex })
            }
        }
    }
}
