import HistoryChecker

// The KV history checked with HistoryChecker's WGL search against a per-key register model.
extension Simulation {
    typealias RegisterOperation = HistoryOperation<RegisterModel.Input, RegisterModel.Output>

    /// The history as checker operations. Unknown writes (`info`, or still open at the end) are settled from
    /// the committed log, as etcd's robustness tests do: a write that was applied took effect by the tick of
    /// its first apply, with the outcome the state machine gave it; a write never applied by the end of the run
    /// took no effect in the observed history (no read can have seen it) and is left out. Failed and
    /// unfinished reads carry no information and are left out too.
    func registerOperations() -> [RegisterOperation] {
        var operations: [RegisterOperation] = []
        var open: [Int: SimHistoryEvent] = [:]
        func add(_ invoke: SimHistoryEvent, _ completion: SimHistoryEvent?) {
            let command: RegisterModel.Command
            switch invoke.function {
            case "put": command = .write(String(invoke.values[0]))
            case "cas": command = .cas(from: String(invoke.values[0]), to: String(invoke.values[1]))
            default: command = .read
            }
            let output: RegisterModel.Output
            var returnTime = Int64(completion?.time ?? 0)
            switch (completion?.type, invoke.function) {
            case (.ok?, "get"):
                let value = completion!.values.first ?? 0
                output = .read(value == 0 ? nil : String(value))
            case (.ok?, "put"): output = .written
            case (.ok?, "cas"): output = .cas(succeeded: true)
            case (.fail?, "cas"): output = .cas(succeeded: false)
            // A refused put (`meta`: NoSuchBucket before the bucket exists) changed nothing.
            case (.fail?, "put"): return
            case (_, "get"): return
            default:
                guard let settled = appliedOps[invoke.values.count == 2 ? invoke.values[1] : invoke.values[0]] else {
                    return
                }
                if invoke.function == "put" && !settled.ok { return }
                output = invoke.function == "put" ? .written : .cas(succeeded: settled.ok)
                returnTime = Int64(max(settled.tick, invoke.time))
            }
            operations.append(RegisterOperation(clientID: invoke.process,
                input: RegisterModel.Input(key: "k\(invoke.key)", command: command), output: output,
                callTime: Int64(invoke.time), returnTime: returnTime, sourceIndex: invoke.index))
        }
        for event in history.events {
            if event.type == .invoke {
                open[event.process] = event
            } else if let invoke = open.removeValue(forKey: event.process) {
                add(invoke, event)
            }
        }
        for invoke in open.values.sorted(by: { $0.index < $1.index }) { add(invoke, nil) }
        return operations
    }

    /// Throws unless the history is linearizable (an inconclusive search fails too).
    func checkLinearizability() throws {
        let operations = registerOperations()
        let checker = LinearizabilityChecker(model: RegisterModel(), timeout: .seconds(30), workers: 1)
        let report = checker.check(operations)
        switch report.result {
        case .ok:
            return
        case .illegal(let counterexample):
            let op = counterexample.operations[counterexample.unplaceable]
            let description = checker.model.describe(op.input, op.output)
            throw SimFailure(message: "linearizability: \(description) (history index \(op.sourceIndex), called at tick \(op.callTime)) cannot be placed after state \(counterexample.stateAfterLinearized)")
        case .inconclusive(let reason):
            throw SimFailure(message: "linearizability: INCONCLUSIVE (\(reason))")
        }
    }
}
