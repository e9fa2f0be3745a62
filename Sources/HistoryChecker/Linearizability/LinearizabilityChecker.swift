import Dispatch
import Foundation

/// The verdict of a linearizability check.
public enum LinearizabilityResult<Input: Sendable, Output: Sendable>: Sendable {
    /// Every partition has a linearization.
    case ok
    /// Some partition has none; the counterexample is the first illegal partition found.
    case illegal(Counterexample<Input, Output>)
    /// The search did not finish (time budget, cache bound). Unknown is a failure (JEPSEN-SPEC §6.1).
    case inconclusive(reason: String)

    /// True only for `.ok`.
    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }
}

/// Why a partition is not linearizable, in the form Porcupine's visualization shows: the longest prefix
/// that could be linearized, and the operation that could not be placed after it.
public struct Counterexample<Input: Sendable, Output: Sendable>: Sendable {
    /// Which partition (index into the model's `partition` result).
    public var partitionIndex: Int
    /// The partition's operations, in the order the model's `partition` returned them.
    public var operations: [Operation<Input, Output>]
    /// The longest partial linearization, as indices into `operations`, in linearization order.
    public var linearized: [Int]
    /// The operation (index into `operations`) that could not be placed next after `linearized`: every
    /// candidate before its return was tried and failed, and it had to be linearized before anything
    /// invoked after its return.
    public var unplaceable: Int
    /// The model state after `linearized`, described by the model.
    public var stateAfterLinearized: String
}

/// One partition's verdict, for reports.
public enum PartitionVerdict: String, Sendable {
    case ok
    case illegal
    /// Stopped by the budget or a bound.
    case inconclusive
    /// Not searched to the end because another partition was illegal first.
    case skipped
}

/// What a check found, with the figures a report prints.
public struct LinearizabilityReport<Input: Sendable, Output: Sendable>: Sendable {
    public var result: LinearizabilityResult<Input, Output>
    /// Operations checked (after the model's partitioning, summed over partitions).
    public var operationCount: Int
    /// The verdict of each partition, in partition order.
    public var partitionVerdicts: [PartitionVerdict]
    /// The number of operations of each partition, in partition order.
    public var partitionSizes: [Int]
    /// Distinct (linearized set, state) configurations each partition's search visited (0 if skipped).
    public var partitionConfigurations: [Int]
    /// Search time of each partition (zero if skipped).
    public var partitionElapsed: [Duration]
    /// Wall time of the search.
    public var elapsed: Duration
}

/// Checks histories against a model: WGL search with the cache, one partition per key, partitions in
/// parallel on a bounded number of threads, under a time budget.
///
/// `check` is synchronous and blocks the calling thread until every partition is done (it runs the
/// partitions on Dispatch's worker threads, not on the Swift cooperative pool). The first illegal partition
/// cancels the others when `stopAtFirstIllegal` is set (the default); the budget cancels everything and
/// gives `.inconclusive`.
public struct LinearizabilityChecker<M: Model>: Sendable {
    public let model: M
    /// The wall-time budget for the whole check; nil for none.
    public var timeout: Duration?
    /// How many partitions are searched at once (at least 1, at most `HistoryCheckerLimits.workersMax`).
    public var workers: Int
    /// Stop the other partitions once one is illegal.
    public var stopAtFirstIllegal: Bool

    public init(model: M, timeout: Duration? = nil, workers: Int? = nil, stopAtFirstIllegal: Bool = true) {
        self.model = model
        self.timeout = timeout
        let cores = ProcessInfo.processInfo.activeProcessorCount
        self.workers = max(1, min(workers ?? cores, HistoryCheckerLimits.workersMax))
        self.stopAtFirstIllegal = stopAtFirstIllegal
    }

    /// Checks `operations` (any order) and returns the verdict.
    public func check(_ operations: [Operation<M.Input, M.Output>]) -> LinearizabilityReport<M.Input, M.Output> {
        let start = ContinuousClock.now
        let deadline = timeout.map { start + $0 }
        let partitions = model.partition(operations).filter { !$0.isEmpty }
        let cancellation = CancellationFlag()
        let queue = SearchQueue<M>(count: partitions.count)
        let model = self.model
        let stopAtFirstIllegal = self.stopAtFirstIllegal
        let workerCount = max(1, min(workers, partitions.count))
        // Partitions take turns in slices of iterations, so one hard partition cannot hold up the verdict
        // of an easy illegal one (Porcupine runs every partition at once for the same reason).
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            while let (index, suspended) = queue.take() {
                var search =
                    suspended
                    ?? WGLSearch(
                        model: model, operations: partitions[index], deadline: deadline, cancellation: cancellation)
                guard let outcome = search.run(iterations: HistoryCheckerLimits.iterationsPerSlice) else {
                    queue.putBack(index, search)
                    continue
                }
                if outcome.kind == .illegal && stopAtFirstIllegal {
                    cancellation.cancel(reason: "partition \(index) is not linearizable")
                }
                if case .exhausted(let reason) = outcome.kind {
                    cancellation.cancel(reason: reason)
                }
                queue.finish(index, outcome)
            }
        }
        let outcomes = queue.outcomes()
        return summarize(partitions: partitions, outcomes: outcomes, elapsed: ContinuousClock.now - start)
    }

    private func summarize(
        partitions: [[Operation<M.Input, M.Output>]], outcomes: [SearchOutcome?], elapsed: Duration
    ) -> LinearizabilityReport<M.Input, M.Output> {
        var verdicts: [PartitionVerdict] = []
        var firstIllegal: Int? = nil
        var stopReason: String? = nil
        for (index, outcome) in outcomes.enumerated() {
            switch outcome?.kind {
            case .ok: verdicts.append(.ok)
            case .illegal:
                verdicts.append(.illegal)
                if firstIllegal == nil { firstIllegal = index }
            case .exhausted(let reason):
                verdicts.append(.inconclusive)
                if stopReason == nil { stopReason = reason }
            case .cancelled, nil: verdicts.append(.skipped)
            }
        }
        let result: LinearizabilityResult<M.Input, M.Output>
        if let index = firstIllegal, let outcome = outcomes[index] {
            result = .illegal(
                Counterexample(
                    partitionIndex: index, operations: partitions[index], linearized: outcome.longest,
                    unplaceable: outcome.unplaceable ?? 0, stateAfterLinearized: outcome.stateAfterLongest))
        } else if let stopReason {
            result = .inconclusive(reason: stopReason)
        } else if verdicts.contains(.skipped) {
            result = .inconclusive(reason: "some partitions were not searched")
        } else {
            result = .ok
        }
        return LinearizabilityReport(
            result: result, operationCount: partitions.reduce(0) { $0 + $1.count }, partitionVerdicts: verdicts,
            partitionSizes: partitions.map(\.count),
            partitionConfigurations: outcomes.map { $0?.configurations ?? 0 },
            partitionElapsed: outcomes.map { $0?.elapsed ?? .zero }, elapsed: elapsed)
    }
}

/// Checks `operations` against `model` with the default settings (all cores up to the limit, stop at the
/// first illegal partition). `timeout` nil means no budget.
public func checkLinearizability<M: Model>(
    model: M, operations: [Operation<M.Input, M.Output>], timeout: Duration? = nil
) -> LinearizabilityResult<M.Input, M.Output> {
    LinearizabilityChecker(model: model, timeout: timeout).check(operations).result
}

/// A flag the searches poll to stop early. `@unchecked Sendable` is safe: both fields are read and written
/// only while holding `lock`.
final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var cancelReason = ""

    var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    var reason: String {
        lock.lock()
        defer { lock.unlock() }
        return cancelReason
    }

    func cancel(reason: String) {
        lock.lock()
        defer { lock.unlock() }
        if !cancelled {
            cancelled = true
            cancelReason = reason
        }
    }
}

/// The partitions waiting for a turn, the suspended searches, and the outcomes, shared by the worker
/// threads. `@unchecked Sendable` is safe: every stored property is read and written only while holding
/// `lock`, and a suspended search is owned by exactly one thread between `take` and `putBack`/`finish`.
final class SearchQueue<M: Model>: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: [Int]
    private var head = 0
    private var suspended: [WGLSearch<M>?]
    private var slots: [SearchOutcome?]

    init(count: Int) {
        waiting = Array(0..<count)
        suspended = Array(repeating: nil, count: count)
        slots = Array(repeating: nil, count: count)
    }

    /// The next partition to work on and its suspended search (nil: not started yet); nil when none waits.
    func take() -> (Int, WGLSearch<M>?)? {
        lock.lock()
        defer { lock.unlock() }
        guard head < waiting.count else { return nil }
        let index = waiting[head]
        head += 1
        if head > 1024 && head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        let search = suspended[index]
        suspended[index] = nil
        return (index, search)
    }

    /// Puts an unfinished search at the back of the line.
    func putBack(_ index: Int, _ search: WGLSearch<M>) {
        lock.lock()
        defer { lock.unlock() }
        suspended[index] = search
        waiting.append(index)
    }

    func finish(_ index: Int, _ outcome: SearchOutcome) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = outcome
    }

    func outcomes() -> [SearchOutcome?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
