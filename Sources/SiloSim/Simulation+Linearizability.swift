import HistoryChecker

// The KV history checked with HistoryChecker's WGL search against a per-key register model.
extension Simulation {
    typealias RegisterOperation = HistoryOperation<RegisterModel.Input, RegisterModel.Output>

    /// The history as checker operations: `info` writes (and writes still open at the end) may or may not
    /// have happened; failed and unfinished reads carry no information and are left out.
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
            case (.ok?, "get"): output = .read(String(completion!.values.first ?? 0))
            case (.ok?, "put"): output = .written
            case (.ok?, "cas"): output = .cas(succeeded: true)
            case (.fail?, "cas"): output = .cas(succeeded: false)
            case (_, "get"): return
            default:
                output = .unknown
                returnTime = RegisterOperation.returnTimeInfinity
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
        let checker = LinearizabilityChecker(model: RegisterModel(initialValue: "0"), timeout: .seconds(30), workers: 1)
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
