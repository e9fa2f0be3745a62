import HistoryChecker
import Testing

@Suite("Linearizability rules")
struct LinearizabilityTests {
    typealias RegisterOp = Operation<RegisterModel.Input, RegisterModel.Output>

    func write(_ p: Int, _ v: String, _ call: Int64, _ ret: Int64) -> RegisterOp {
        Operation(clientID: p, input: .init(key: nil, command: .write(v)), output: .written, callTime: call, returnTime: ret)
    }

    func read(_ p: Int, _ v: String?, _ call: Int64, _ ret: Int64) -> RegisterOp {
        Operation(clientID: p, input: .init(key: nil, command: .read), output: .read(v), callTime: call, returnTime: ret)
    }

    /// Goal: [call, return] is closed, so operations that touch are concurrent. Method: a read that starts
    /// at the very tick a write returns may still see the old value; one tick later it may not.
    @Test func closedIntervalsMakeTouchingOperationsConcurrent() {
        let touching = [write(0, "1", 0, 10), read(1, nil, 10, 20)]
        #expect(checkLinearizability(model: RegisterModel(), operations: touching).isOK)
        let after = [write(0, "1", 0, 10), read(1, nil, 11, 20)]
        #expect(isIllegal(checkLinearizability(model: RegisterModel(), operations: after)))
        // Porcupine's TestZeroDuration: zero-length operations at the same instant.
        let zero = [write(0, "100", 0, 100), read(1, "100", 25, 75), read(2, nil, 30, 30), read(3, nil, 30, 30)]
        #expect(checkLinearizability(model: RegisterModel(), operations: zero).isOK)
        let zeroBad = [write(0, "200", 0, 100), read(1, "200", 10, 10), read(2, "200", 10, 10), read(3, nil, 40, 90)]
        #expect(isIllegal(checkLinearizability(model: RegisterModel(), operations: zeroBad)))
    }

    /// Goal: an info write may or may not take effect, but once observed it stays. Method: silo-history
    /// events through the S3 register conversion (info → return +∞): observed, never observed, and observed
    /// then followed by a read of the older value (illegal).
    @Test func infoWritesObservedOrNot() throws {
        var observed = EventLog()
        observed.op(0, "put", "a", from: 0, to: 1)
        observed.add(1, .invoke, "put", "b", at: 2)
        observed.add(1, .info, "put", "b", at: 3)
        observed.op(2, "get", .ok, result: "b", from: 50, to: 51)
        #expect(checkLinearizability(model: S3RegisterModel(), operations: try S3RegisterModel.operations(from: observed.events)).isOK)

        var unobserved = EventLog()
        unobserved.op(0, "put", "a", from: 0, to: 1)
        unobserved.add(1, .invoke, "put", "b", at: 2)
        unobserved.add(1, .info, "put", "b", at: 3)
        unobserved.op(2, "get", .ok, result: "a", from: 50, to: 51)
        unobserved.op(2, "get", .ok, result: "a", from: 60, to: 61)
        #expect(checkLinearizability(model: S3RegisterModel(), operations: try S3RegisterModel.operations(from: unobserved.events)).isOK)

        var thenOlder = EventLog()
        thenOlder.op(0, "put", "a", from: 0, to: 1)
        thenOlder.add(1, .invoke, "put", "b", at: 2)  // never completes: also unknown, return +∞
        thenOlder.op(2, "get", .ok, result: "b", from: 50, to: 51)
        thenOlder.op(2, "get", .ok, result: "a", from: 60, to: 61)
        let ops = try S3RegisterModel.operations(from: thenOlder.events)
        #expect(ops.contains { $0.returnTime == Operation<S3RegisterModel.Input, S3RegisterModel.Output>.returnTimeInfinity })
        let result = checkLinearizability(model: S3RegisterModel(), operations: ops)
        guard case .illegal(let counterexample) = result else {
            Issue.record("expected illegal, got \(result)")
            return
        }
        // The stuck operation is the read of the older value.
        #expect(counterexample.operations[counterexample.unplaceable].output == .value("a"))
        #expect(counterexample.operations[counterexample.unplaceable].callTime == 60)
    }

    /// Goal: failed and indeterminate GETs have no side effect and are dropped. Method: a failed GET that
    /// "read" a value never written does not make the history illegal.
    @Test func failedReadsAreDropped() throws {
        var log = EventLog()
        log.op(0, "put", "a", from: 0, to: 1)
        log.op(1, "get", .fail, result: "garbage", from: 2, to: 3, http: 503)
        log.add(2, .invoke, "get", at: 4)
        log.add(2, .info, "get", at: 5)
        log.op(3, "get", .ok, result: "a", from: 6, to: 7)
        let ops = try S3RegisterModel.operations(from: log.events)
        #expect(ops.count == 2)
        #expect(checkLinearizability(model: S3RegisterModel(), operations: ops).isOK)
    }

    /// Goal: the S3 conditional-write rules (JEPSEN-SPEC §6.3 W1). Method: short sequential histories,
    /// each legal or illegal by one rule.
    @Test func s3RegisterRules() throws {
        func check(_ build: (inout EventLog) -> Void) throws -> LinearizabilityResult<S3RegisterModel.Input, S3RegisterModel.Output> {
            var log = EventLog()
            build(&log)
            return checkLinearizability(model: S3RegisterModel(), operations: try S3RegisterModel.operations(from: log.events))
        }
        // create on an absent key succeeds; a second create gets 412.
        #expect(try check { l in
            l.op(0, "create", "a", from: 0, to: 1)
            l.op(1, "create", "b", .fail, from: 2, to: 3, http: 412)
            l.op(1, "get", .ok, result: "a", from: 4, to: 5)
        }.isOK)
        // create ok when the key exists is illegal.
        #expect(isIllegal(try check { l in
            l.op(0, "put", "a", from: 0, to: 1)
            l.op(1, "create", "b", from: 2, to: 3)
        }))
        // 412 on create when the key is absent is illegal.
        #expect(isIllegal(try check { l in l.op(1, "create", "b", .fail, from: 2, to: 3, http: 412) }))
        // cas from the current value succeeds; from another value it gets 412; 409 is a no-op anywhere.
        #expect(try check { l in
            l.op(0, "put", "a", from: 0, to: 1)
            l.op(1, "cas", .object(["from": "a", "to": "b"]), from: 2, to: 3)
            l.op(2, "cas", .object(["from": "a", "to": "c"]), .fail, from: 4, to: 5, http: 412)
            l.op(2, "cas", .object(["from": "b", "to": "d"]), .fail, from: 6, to: 7, http: 409)
            l.op(3, "get", .ok, result: "b", from: 8, to: 9)
        }.isOK)
        #expect(isIllegal(try check { l in
            l.op(0, "put", "a", from: 0, to: 1)
            l.op(1, "cas", .object(["from": "x", "to": "b"]), from: 2, to: 3)
        }))
        // delete makes the key absent; a later get of the old value is illegal.
        #expect(try check { l in
            l.op(0, "put", "a", from: 0, to: 1)
            l.op(1, "delete", from: 2, to: 3)
            l.op(2, "get", .ok, result: .null, from: 4, to: 5)
        }.isOK)
        #expect(isIllegal(try check { l in
            l.op(0, "put", "a", from: 0, to: 1)
            l.op(1, "delete", from: 2, to: 3)
            l.op(2, "get", .ok, result: "a", from: 4, to: 5)
        }))
    }

    /// Goal: keys are independent partitions, and the counterexample names the failing one. Method: two
    /// keys, one of them with a stale read.
    @Test func partitionsPerKey() throws {
        var log = EventLog()
        log.op(0, "put", key: "x", "1", from: 0, to: 1)
        log.op(1, "put", key: "y", "1", from: 0, to: 1)
        log.op(0, "put", key: "y", "2", from: 2, to: 3)
        log.op(1, "get", key: "y", .ok, result: "1", from: 4, to: 5)
        let checker = LinearizabilityChecker(model: S3RegisterModel(), workers: 2, stopAtFirstIllegal: false)
        let report = checker.check(try S3RegisterModel.operations(from: log.events))
        #expect(report.partitionVerdicts == [.ok, .illegal])
        guard case .illegal(let counterexample) = report.result else {
            Issue.record("expected illegal")
            return
        }
        #expect(counterexample.partitionIndex == 1)
        #expect(counterexample.linearized.count == 2)
        #expect(counterexample.stateAfterLinearized == "2")
    }

    /// Goal: a budget too small gives INCONCLUSIVE, never a pass. Method: 18 concurrent writes and a read of
    /// a value nobody wrote; refuting it needs ~2^18 configurations, far more than 1 ms allows.
    @Test func tooSmallBudgetIsInconclusive() {
        var ops = (0..<18).map { write($0, "v\($0)", 0, 100) }
        ops.append(read(99, "never-written", 101, 102))
        ops.append(contentsOf: (0..<18).map { read($0, "v\($0)", 0, 100) })
        let report = LinearizabilityChecker(model: RegisterModel(), timeout: .milliseconds(1)).check(ops)
        #expect(isInconclusive(report.result), "got \(report.result)")
        #expect(report.partitionVerdicts == [.inconclusive])
    }

    /// Goal: the powerset construction checks a nondeterministic model. Method: a register whose write
    /// may be lost; a read of either value after it is fine, a value never written is not.
    @Test func powersetOfNondeterministicModel() {
        struct LossyRegister: NondeterministicModel {
            func initialStates() -> [Int] { [0] }
            func step(_ state: Int, _ input: Int?, _ output: Int?) -> [Int] {
                if let value = input { return [state, value] }  // a write: applied or lost
                return output == state ? [state] : []
            }
            func describe(_ input: Int?, _ output: Int?) -> String { "\(String(describing: input)) \(String(describing: output))" }
        }
        func op(_ input: Int?, _ output: Int?, _ t: Int64) -> Operation<Int?, Int?> {
            Operation(clientID: 0, input: input, output: output, callTime: t, returnTime: t)
        }
        let model = PowersetModel(LossyRegister())
        #expect(checkLinearizability(model: model, operations: [op(5, nil, 0), op(nil, 5, 1)]).isOK)
        #expect(checkLinearizability(model: model, operations: [op(5, nil, 0), op(nil, 0, 1)]).isOK)
        #expect(isIllegal(checkLinearizability(model: model, operations: [op(5, nil, 0), op(nil, 7, 1)])))
    }
}
