/// An invocation and its completion, paired per process (JEPSEN-SPEC §6.5: each process has at most one
/// outstanding invoke).
public struct OperationPair: Sendable, Hashable {
    public var invoke: HistoryEvent
    /// The `ok`, `fail` or `info` event; nil if the history ended first (which counts as `info`).
    public var completion: HistoryEvent?

    public init(invoke: HistoryEvent, completion: HistoryEvent?) {
        self.invoke = invoke
        self.completion = completion
    }

    /// The completion's type; `.info` when there is none.
    public var outcome: EventType { completion?.type ?? .info }

    /// True when the outcome is known to be `ok`.
    public var isOK: Bool { outcome == .ok }
}

/// A fault window from the nemesis lines: `start-X` to the next `stop-X` (open-ended if none).
public struct NemesisWindow: Sendable, Hashable {
    /// The fault name, e.g. `partition` for `start-partition` / `stop-partition`.
    public var name: String
    public var startTime: Int64
    /// nil: the fault never stopped within the history.
    public var stopTime: Int64?
    /// The start event's value (the grudge, the target), for reports.
    public var detail: JSONValue?
}

/// Turns `silo-history/1` events into operation pairs and fault windows.
public enum HistoryPairing {
    /// Pairs each op invoke with its process's next completion, in invoke order. Nemesis and raft lines are
    /// skipped. A completion with no outstanding invoke, a second invoke while one is outstanding, a
    /// completion whose `f` differs from its invoke's, or one timed before its invoke, is an error in the
    /// history.
    public static func pairs(_ events: [HistoryEvent]) throws(HistoryError) -> [OperationPair] {
        var pairs: [OperationPair] = []
        var outstanding: [Int: Int] = [:]  // process -> index into pairs
        for event in events where event.kind == .op {
            guard let process = event.process else {
                throw .unmatchedEvent(index: event.index, reason: "op without a process")
            }
            if event.type == .invoke {
                if let open = outstanding[process] {
                    throw .unmatchedEvent(
                        index: event.index,
                        reason: "process \(process) invoked again while event \(pairs[open].invoke.index) is open")
                }
                outstanding[process] = pairs.count
                pairs.append(OperationPair(invoke: event, completion: nil))
            } else {
                guard let open = outstanding.removeValue(forKey: process) else {
                    throw .unmatchedEvent(index: event.index, reason: "process \(process) completed without an invoke")
                }
                guard pairs[open].invoke.f == event.f else {
                    throw .unmatchedEvent(
                        index: event.index,
                        reason: "completion f '\(event.f)' does not match invoke f '\(pairs[open].invoke.f)'")
                }
                guard event.time >= pairs[open].invoke.time else {
                    throw .unmatchedEvent(
                        index: event.index,
                        reason: "completes at \(event.time), before its invoke at \(pairs[open].invoke.time)")
                }
                pairs[open].completion = event
            }
        }
        return pairs
    }

    /// The fault windows, in start order.
    public static func nemesisWindows(_ events: [HistoryEvent]) -> [NemesisWindow] {
        var windows: [NemesisWindow] = []
        var open: [String: Int] = [:]
        for event in events where event.kind == .nemesis {
            if event.f.hasPrefix("start-") {
                let name = String(event.f.dropFirst("start-".count))
                open[name] = windows.count
                windows.append(NemesisWindow(name: name, startTime: event.time, stopTime: nil, detail: event.value))
            } else if event.f.hasPrefix("stop-") {
                let name = String(event.f.dropFirst("stop-".count))
                if let i = open.removeValue(forKey: name) { windows[i].stopTime = event.time }
            }
        }
        return windows
    }

    /// A value id from a JSON value: a string as itself, null as nil (absent), anything else (a number, a
    /// `{"sha256":..,"size":..}` body) as its compact JSON text.
    public static func valueID(_ value: JSONValue?) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case let other?: return other.jsonText
        }
    }
}

extension S3RegisterModel {
    /// The W1 operations of a history (`f` = get, put, create, cas, delete; `read`/`write` are accepted as
    /// get/put). Failed and indeterminate GETs are dropped (no side effect). A `fail` with HTTP 412 is a
    /// precondition failure, with 409 a conflict; any other `fail` proves no effect and is dropped. An
    /// `info` or uncompleted write gets return time +∞ and output `.unknown`.
    public static func operations(from events: [HistoryEvent]) throws(HistoryError) -> [Operation<Input, Output>] {
        var operations: [Operation<Input, Output>] = []
        for pair in try HistoryPairing.pairs(events) {
            let invoke = pair.invoke
            guard let key = invoke.key else {
                throw .unsupportedOperation(index: invoke.index, reason: "a register op needs a key")
            }
            let command = try s3Command(invoke)
            let output: Output
            var returnTime = pair.completion?.time ?? Operation<Input, Output>.returnTimeInfinity
            switch (pair.outcome, command) {
            case (.ok, .get): output = .value(HistoryPairing.valueID(pair.completion?.value))
            case (.ok, _): output = .ok
            case (.fail, .get), (.info, .get): continue
            case (.fail, _):
                let completion = pair.completion!
                if completion.http == 412 || completion.error == "PreconditionFailed" {
                    output = .preconditionFailed
                } else if completion.http == 409 || completion.error == "ConditionalRequestConflict" {
                    output = .conflict
                } else {
                    continue
                }
            case (.info, _), (.invoke, _):
                output = .unknown
                returnTime = Operation<Input, Output>.returnTimeInfinity
            }
            operations.append(
                Operation(
                    clientID: invoke.process ?? -1, input: Input(key: key, command: command), output: output,
                    callTime: invoke.time, returnTime: returnTime, sourceIndex: invoke.index))
        }
        return operations
    }

    private static func s3Command(_ invoke: HistoryEvent) throws(HistoryError) -> Command {
        func required(_ v: String?) throws(HistoryError) -> String {
            guard let v else { throw .unsupportedOperation(index: invoke.index, reason: "'\(invoke.f)' needs a value") }
            return v
        }
        switch invoke.f {
        case "get", "read", "head": return .get
        case "put", "write": return .put(try required(HistoryPairing.valueID(invoke.value)))
        case "create": return .create(try required(HistoryPairing.valueID(invoke.value)))
        case "cas":
            return .cas(
                from: try required(HistoryPairing.valueID(invoke.value?["from"])),
                to: try required(HistoryPairing.valueID(invoke.value?["to"])))
        case "delete":
            if let from = HistoryPairing.valueID(invoke.value?["from"]) { return .deleteIfMatch(from) }
            return .delete
        default: throw .unsupportedOperation(index: invoke.index, reason: "unknown register f '\(invoke.f)'")
        }
    }
}

extension RegisterModel {
    /// The register operations of a history (`f` = read/get, write/put, cas, append; `key` optional).
    /// Failed and indeterminate reads are dropped. A failed cas is a definite failure (`.cas(false)`); any
    /// other failed write proves no effect and is dropped. An `info` or uncompleted write gets return time
    /// +∞ and output `.unknown`.
    public static func operations(from events: [HistoryEvent]) throws(HistoryError) -> [Operation<Input, Output>] {
        var operations: [Operation<Input, Output>] = []
        for pair in try HistoryPairing.pairs(events) {
            let invoke = pair.invoke
            let command = try registerCommand(invoke)
            let output: Output
            var returnTime = pair.completion?.time ?? Operation<Input, Output>.returnTimeInfinity
            switch (pair.outcome, command) {
            case (.ok, .read): output = .read(HistoryPairing.valueID(pair.completion?.value))
            case (.ok, .cas): output = .cas(succeeded: true)
            case (.ok, _): output = .written
            case (.fail, .cas): output = .cas(succeeded: false)
            case (.fail, _), (.info, .read): continue
            case (.info, _), (.invoke, _):
                output = .unknown
                returnTime = Operation<Input, Output>.returnTimeInfinity
            }
            operations.append(
                Operation(
                    clientID: invoke.process ?? -1, input: Input(key: invoke.key, command: command), output: output,
                    callTime: invoke.time, returnTime: returnTime, sourceIndex: invoke.index))
        }
        return operations
    }

    private static func registerCommand(_ invoke: HistoryEvent) throws(HistoryError) -> Command {
        func required(_ v: String?) throws(HistoryError) -> String {
            guard let v else { throw .unsupportedOperation(index: invoke.index, reason: "'\(invoke.f)' needs a value") }
            return v
        }
        switch invoke.f {
        case "read", "get": return .read
        case "write", "put": return .write(try required(HistoryPairing.valueID(invoke.value)))
        case "append": return .append(try required(HistoryPairing.valueID(invoke.value)))
        case "cas":
            return .cas(
                from: try required(HistoryPairing.valueID(invoke.value?["from"])),
                to: try required(HistoryPairing.valueID(invoke.value?["to"])))
        default: throw .unsupportedOperation(index: invoke.index, reason: "unknown register f '\(invoke.f)'")
        }
    }
}
