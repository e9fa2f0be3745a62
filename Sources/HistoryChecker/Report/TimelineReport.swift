/// A self-contained HTML timeline of a history (JEPSEN-SPEC §6.4 `timeline.html`): one row per process,
/// operations as bars from call to return, nemesis windows shaded, the failing window highlighted, and for a
/// linearizability failure the longest partial linearization (numbered in order) and the operation that
/// could not be placed.
///
/// Build one with `init` and the `add...` helpers, or with `TimelineReport.linearizability(...)` /
/// `TimelineReport.anomalies(...)`, then call `html()`. The page has no scripts from elsewhere and no
/// external files: it is one file to attach to a failed run.
public struct TimelineReport: Sendable {
    /// How a bar is drawn.
    public enum Mark: Sendable, Hashable {
        case plain
        /// Part of the longest partial linearization, at this position (1-based).
        case linearized(Int)
        /// The operation that could not be placed next.
        case unplaceable
        /// Involved in a named anomaly.
        case anomaly
    }

    /// One operation drawn as a bar.
    public struct Bar: Sendable, Hashable {
        public var process: Int
        public var callTime: Int64
        /// `Operation.returnTimeInfinity` draws the bar to the end of the picture.
        public var returnTime: Int64
        public var label: String
        public var outcome: EventType
        public var mark: Mark

        public init(process: Int, callTime: Int64, returnTime: Int64, label: String, outcome: EventType, mark: Mark) {
            self.process = process
            self.callTime = callTime
            self.returnTime = returnTime
            self.label = label
            self.outcome = outcome
            self.mark = mark
        }
    }

    public var title: String
    /// Lines printed above the picture (verdicts, counts, times).
    public var summary: [String]
    public var bars: [Bar]
    public var nemesis: [NemesisWindow]
    /// The failing window (time range) to highlight and zoom to; nil when the history is valid.
    public var window: ClosedRange<Int64>?
    /// Lines describing the failure, printed under the picture.
    public var details: [String]

    public init(
        title: String, summary: [String] = [], bars: [Bar] = [], nemesis: [NemesisWindow] = [],
        window: ClosedRange<Int64>? = nil, details: [String] = []
    ) {
        self.title = title
        self.summary = summary
        self.bars = bars
        self.nemesis = nemesis
        self.window = window
        self.details = details
    }

    /// The report of a linearizability check: every operation of every partition, with the counterexample
    /// marked when there is one.
    public static func linearizability<M: Model>(
        model: M, operations: [Operation<M.Input, M.Output>], report: LinearizabilityReport<M.Input, M.Output>,
        nemesis: [NemesisWindow] = [], title: String
    ) -> TimelineReport {
        var timeline = TimelineReport(title: title, nemesis: nemesis)
        timeline.summary = [
            "verdict: \(verdictText(report.result))",
            "\(report.operationCount) operations in \(report.partitionSizes.count) partition(s), checked in \(report.elapsed)",
        ]
        guard case .illegal(let counterexample) = report.result else {
            timeline.bars = operations.map { bar(model: model, $0, mark: .plain) }
            return timeline
        }
        var marks: [Int: Mark] = [:]
        for (position, index) in counterexample.linearized.enumerated() { marks[index] = .linearized(position + 1) }
        marks[counterexample.unplaceable] = .unplaceable
        // Draw the failing partition only: the other keys are independent of the failure.
        let ops = counterexample.operations
        timeline.bars = ops.indices.map { bar(model: model, ops[$0], mark: marks[$0] ?? .plain) }
        let stuck = ops[counterexample.unplaceable]
        let lastLinearized = counterexample.linearized.suffix(HistoryCheckerLimits.windowOperationsMax)
        let start = lastLinearized.map { ops[$0].callTime }.min() ?? stuck.callTime
        let end = stuck.returnTime == Operation<M.Input, M.Output>.returnTimeInfinity ? stuck.callTime : stuck.returnTime
        timeline.window = min(start, stuck.callTime)...max(end, stuck.callTime)
        timeline.details = counterexampleLines(model: model, counterexample)
        return timeline
    }

    /// The report of a list-append or set check: every operation, those named in anomalies marked, the
    /// window spanning the first anomaly's events.
    public static func anomalies(
        checker: String, pairs: [OperationPair], report: AnomalyReport, nemesis: [NemesisWindow] = [],
        title: String
    ) -> TimelineReport {
        var timeline = TimelineReport(title: title, nemesis: nemesis)
        timeline.summary = [
            "\(checker): \(report.isValid ? "VALID" : "ANOMALY")",
            "\(report.operationCount) operations checked in \(report.elapsed)",
        ] + AnomalyName.allCases.compactMap { name in report.counts[name].map { "\(name.rawValue): \($0)" } }
        let involved = Set(report.anomalies.flatMap(\.eventIndices))
        let firstInvolved = Set(report.anomalies.first?.eventIndices ?? [])
        timeline.bars = pairs.map { pair in
            Bar(
                process: pair.invoke.process ?? -1, callTime: pair.invoke.time,
                returnTime: pair.completion?.time ?? Operation<Int, Int>.returnTimeInfinity,
                label: label(pair), outcome: pair.outcome, mark: involved.contains(pair.invoke.index) ? .anomaly : .plain)
        }
        let windowPairs = pairs.filter { firstInvolved.contains($0.invoke.index) }
        if let start = windowPairs.map(\.invoke.time).min() {
            let end = windowPairs.map { $0.completion?.time ?? $0.invoke.time }.max() ?? start
            timeline.window = start...max(start, end)
        }
        timeline.details = report.anomalies.map { "\($0.name.rawValue) [\($0.key)] \($0.message) (events \($0.eventIndices))" }
        return timeline
    }

    static func verdictText<I, O>(_ result: LinearizabilityResult<I, O>) -> String {
        switch result {
        case .ok: return "VALID (linearizable)"
        case .illegal: return "ILLEGAL (not linearizable)"
        case .inconclusive(let reason): return "INCONCLUSIVE (\(reason))"
        }
    }

    static func bar<M: Model>(model: M, _ op: Operation<M.Input, M.Output>, mark: Mark) -> Bar {
        let outcome: EventType = op.returnTime == Operation<M.Input, M.Output>.returnTimeInfinity ? .info : .ok
        return Bar(
            process: op.clientID, callTime: op.callTime, returnTime: op.returnTime,
            label: model.describe(op.input, op.output), outcome: outcome, mark: mark)
    }

    static func label(_ pair: OperationPair) -> String {
        var text = pair.invoke.f
        if let key = pair.invoke.key { text += " [\(key)]" }
        if let value = pair.invoke.value { text += " " + value.jsonText }
        switch pair.outcome {
        case .ok:
            if let value = pair.completion?.value, value != pair.invoke.value { text += " -> " + value.jsonText }
        case .fail: text += " -> fail" + (pair.completion?.error.map { " (\($0))" } ?? "")
        case .info, .invoke: text += " -> ?"
        }
        return text
    }

    /// The counterexample in words: the last steps of the longest linearization, then the stuck operation.
    public static func counterexampleLines<M: Model>(
        model: M, _ counterexample: Counterexample<M.Input, M.Output>
    ) -> [String] {
        let ops = counterexample.operations
        var lines: [String] = []
        let shown = counterexample.linearized.suffix(HistoryCheckerLimits.windowOperationsMax)
        lines.append(
            "longest partial linearization: \(counterexample.linearized.count) of \(ops.count) operations"
                + (shown.count < counterexample.linearized.count ? " (last \(shown.count) shown)" : ""))
        let skipped = counterexample.linearized.count - shown.count
        for (offset, index) in shown.enumerated() {
            lines.append("  \(skipped + offset + 1). " + operationLine(model: model, ops[index]))
        }
        lines.append("state after it: \(counterexample.stateAfterLinearized)")
        let stuck = ops[counterexample.unplaceable]
        lines.append("could not place next: " + operationLine(model: model, stuck))
        let concurrent = ops.indices.filter { i in
            i != counterexample.unplaceable && !counterexample.linearized.contains(i)
                && ops[i].callTime <= stuck.returnTime && stuck.callTime <= ops[i].returnTime
        }
        if !concurrent.isEmpty {
            lines.append("not yet linearized and concurrent with it:")
            for i in concurrent.prefix(HistoryCheckerLimits.windowOperationsMax) {
                lines.append("  " + operationLine(model: model, ops[i]))
            }
        }
        return lines
    }

    static func operationLine<M: Model>(model: M, _ op: Operation<M.Input, M.Output>) -> String {
        let end = op.returnTime == Operation<M.Input, M.Output>.returnTimeInfinity ? "+inf" : "\(op.returnTime)"
        return "process \(op.clientID) [\(op.callTime), \(end)] \(model.describe(op.input, op.output))"
            + " (event \(op.sourceIndex))"
    }
}
