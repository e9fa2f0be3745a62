/// One operation of a history, as the linearizability checker sees it (Porcupine's `Operation`).
///
/// `[callTime, returnTime]` is a **closed** interval: two operations that touch are concurrent. An operation
/// whose outcome is unknown (an `info` write) has `returnTime == Operation.returnTimeInfinity`: it may take
/// effect at any time after its call, or never.
public struct Operation<Input: Sendable, Output: Sendable>: Sendable {
    /// The return time of an operation that may take effect at any time after its call.
    public static var returnTimeInfinity: Int64 { Int64.max }

    /// The client (process) that ran the operation; for reports only.
    public var clientID: Int
    public var input: Input
    public var output: Output
    public var callTime: Int64
    public var returnTime: Int64
    /// Where the operation came from (the invoke event's `index` in a `silo-history/1` file, or the line
    /// number of another format); for reports only.
    public var sourceIndex: Int

    public init(clientID: Int, input: Input, output: Output, callTime: Int64, returnTime: Int64, sourceIndex: Int = 0) {
        precondition(callTime <= returnTime, "operation returns before its call: [\(callTime), \(returnTime)]")
        self.clientID = clientID
        self.input = input
        self.output = output
        self.callTime = callTime
        self.returnTime = returnTime
        self.sourceIndex = sourceIndex
    }
}

/// A sequential specification of an object (Porcupine's `Model`).
///
/// The checker calls `partition` once, `initialState` once per partition, then `step` many times in any
/// order and from several threads at once: `step` must be pure. `State` equality and hashing must agree
/// (two equal states have the same future), which `Hashable` promises.
public protocol Model: Sendable {
    associatedtype State: Hashable & Sendable
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// Splits a history into independent sub-histories (per key, for a key-value store). The history is
    /// linearizable if and only if each part is (locality). Only split where the object really is per key.
    /// Return the parts in a deterministic order. The default keeps the history whole.
    func partition(_ operations: [Operation<Input, Output>]) -> [[Operation<Input, Output>]]

    /// The state before any operation.
    func initialState() -> State

    /// Applies `input` to `state` and checks that the observed `output` is what a sequential object would
    /// have returned. Returns the next state, or nil if the output is impossible from `state`.
    func step(_ state: State, _ input: Input, _ output: Output) -> State?

    /// A short text for one operation, e.g. `cas(1, 2) -> ok`.
    func describe(_ input: Input, _ output: Output) -> String

    /// A short text for one state.
    func describe(state: State) -> String

    /// True if `step` accepts every operation whose return time is `Operation.returnTimeInfinity` in every
    /// state (as it must for an `info` write whose output is "unknown"). The search then succeeds as soon as
    /// only such operations are left, since they can all be linearized last. The checker traps if the
    /// promise is broken. Default: false.
    var infiniteOperationsAlwaysLegal: Bool { get }
}

extension Model {
    public var infiniteOperationsAlwaysLegal: Bool { false }

    public func partition(_ operations: [Operation<Input, Output>]) -> [[Operation<Input, Output>]] {
        [operations]
    }

    public func describe(state: State) -> String { "\(state)" }
}

/// A sequential specification whose steps may branch (Porcupine's `NondeterministicModel`). Convert it with
/// `PowersetModel` to check it.
public protocol NondeterministicModel: Sendable {
    associatedtype State: Hashable & Sendable
    associatedtype Input: Sendable
    associatedtype Output: Sendable

    /// As `Model.partition`.
    func partition(_ operations: [Operation<Input, Output>]) -> [[Operation<Input, Output>]]
    /// Every possible initial state (at least one).
    func initialStates() -> [State]
    /// Every state the object could be in after `input` returned `output` from `state`; empty if the
    /// output is impossible. Must be pure.
    func step(_ state: State, _ input: Input, _ output: Output) -> [State]
    func describe(_ input: Input, _ output: Output) -> String
    func describe(state: State) -> String
    /// As `Model.infiniteOperationsAlwaysLegal`: true if every +∞ operation has a next state from every
    /// state. Default: false.
    var infiniteOperationsAlwaysLegal: Bool { get }
}

extension NondeterministicModel {
    public var infiniteOperationsAlwaysLegal: Bool { false }

    public func partition(_ operations: [Operation<Input, Output>]) -> [[Operation<Input, Output>]] {
        [operations]
    }

    public func describe(state: State) -> String { "\(state)" }
}

/// The powerset construction: a nondeterministic model as a deterministic one whose state is the set of
/// states the object could be in. A step is legal when that set stays non-empty. `Set`'s hash does not
/// depend on member order, as Porcupine's XOR of member hashes.
public struct PowersetModel<Base: NondeterministicModel>: Model {
    public typealias State = Set<Base.State>
    public typealias Input = Base.Input
    public typealias Output = Base.Output

    public let base: Base

    public init(_ base: Base) { self.base = base }

    public func partition(_ operations: [Operation<Input, Output>]) -> [[Operation<Input, Output>]] {
        base.partition(operations)
    }

    public func initialState() -> State { Set(base.initialStates()) }

    public var infiniteOperationsAlwaysLegal: Bool { base.infiniteOperationsAlwaysLegal }

    public func step(_ state: State, _ input: Input, _ output: Output) -> State? {
        var next: State = []
        for s in state { next.formUnion(base.step(s, input, output)) }
        return next.isEmpty ? nil : next
    }

    public func describe(_ input: Input, _ output: Output) -> String { base.describe(input, output) }

    public func describe(state: State) -> String {
        "{" + state.map { base.describe(state: $0) }.sorted().joined(separator: ", ") + "}"
    }
}

/// Another name for `Operation`, for files that also import Foundation (whose `Operation` is a different
/// type, so the bare name is ambiguous there).
public typealias HistoryOperation<Input: Sendable, Output: Sendable> = Operation<Input, Output>
