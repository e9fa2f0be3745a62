import Foundation
import Logging

/// The log of a single in-process voter: one dedicated thread owns the SQLite state machine and applies
/// proposals in arrival order, taking every proposal queued at that moment (up to
/// `MetaLimits.batchCommandsMax`) as one batch: one transaction, one WAL fsync (group commit).
///
/// Reads are queued behind every earlier proposal on the same thread, so a read sees every write that
/// returned before it was issued. The thread is not a cooperative-pool thread: its fsyncs never stall
/// Swift tasks.
final class LocalMetaLog: MetaLog, @unchecked Sendable {
    // @unchecked Sendable: every mutable field below is read and written only while `condition` is locked;
    // the state machine itself never leaves the thread that created it (a local of `runThread`).

    private enum Job {
        case proposal([UInt8], @Sendable (Result<MetaCommandResult, MetaError>) -> Void)
        /// Called with the state machine, or with nil if the log closed before the read could run.
        case read(@Sendable (MetaStateMachine?) -> Void)
    }

    private enum State {
        case running
        case stopping
        case stopped
    }

    private let condition = NSCondition()
    /// Invariant: `jobs.count <= MetaLimits.pendingProposalsMax`.
    private var jobs: [Job] = []
    private var state: State = .running
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private let logger: Logger

    private init(logger: Logger) {
        self.logger = logger
    }

    /// Creates `directory` if needed, opens (or creates) `directory/meta.sqlite` on a new thread and
    /// returns once it is open.
    static func open(directory: String, logger: Logger) async throws(MetaError) -> LocalMetaLog {
        let log = LocalMetaLog(logger: logger)
        let opened: Result<Void, MetaError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                log.runThread(directory: directory) { continuation.resume(returning: $0) }
            }
            thread.name = "silo-meta-apply"
            thread.start()
        }
        try opened.get()
        return log
    }

    func propose(_ command: [UInt8]) async throws(MetaError) -> MetaCommandResult {
        let outcome: Result<MetaCommandResult, MetaError> = await withCheckedContinuation { continuation in
            let reply: @Sendable (Result<MetaCommandResult, MetaError>) -> Void = { continuation.resume(returning: $0) }
            if let refusal = enqueue(.proposal(command, reply)) { reply(.failure(refusal)) }
        }
        return try outcome.get()
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (MetaStateMachine) throws -> T) async throws(MetaError) -> T {
        let outcome: Result<T, MetaError> = await withCheckedContinuation { continuation in
            let job = Job.read { machine in
                guard let machine else {
                    return continuation.resume(returning: .failure(.unavailable("metadata service is closed")))
                }
                do {
                    continuation.resume(returning: .success(try body(machine)))
                } catch let error as MetaError {
                    continuation.resume(returning: .failure(error))
                } catch {
                    continuation.resume(returning: .failure(.internalFault("metadata read: \(error)")))
                }
            }
            if let refusal = enqueue(job) { continuation.resume(returning: .failure(refusal)) }
        }
        return try outcome.get()
    }

    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if state == .stopped {
                condition.unlock()
                continuation.resume()
                return
            }
            closeWaiters.append(continuation)
            state = .stopping
            condition.signal()
            condition.unlock()
        }
    }

    /// Queues a job, or returns why it cannot be queued.
    private func enqueue(_ job: Job) -> MetaError? {
        condition.lock()
        defer { condition.unlock() }
        guard state == .running else { return .unavailable("metadata service is closed") }
        guard jobs.count < MetaLimits.pendingProposalsMax else {
            return .unavailable("metadata queue full (\(jobs.count) waiting)")
        }
        jobs.append(job)
        condition.signal()
        return nil
    }

    // MARK: The thread

    private func runThread(directory: String, opened: (Result<Void, MetaError>) -> Void) {
        let machine: MetaStateMachine
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            machine = try MetaStateMachine(path: directory + "/meta.sqlite")
        } catch {
            finishThread()
            opened(.failure(.internalFault("opening metadata in \(directory): \(error)")))
            return
        }
        logger.info(
            "metadata state machine open",
            metadata: [
                "directory": "\(directory)", "appliedIndex": "\(machine.appliedIndex())",
            ])
        opened(.success(()))
        while let taken = nextJobs() {
            guard perform(taken, on: machine) else { break }
        }
        machine.close()
        logger.info("metadata state machine closed", metadata: ["appliedIndex": "\(machine.appliedIndex())"])
        finishThread()
    }

    /// Waits for work; returns the leading run of proposals (at most one batch), or one read; nil once
    /// stopping and drained.
    private func nextJobs() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty {
            if state != .running { return nil }
            condition.wait()
        }
        var count = 1
        if case .proposal = jobs[0] {
            while count < min(jobs.count, MetaLimits.batchCommandsMax), case .proposal = jobs[count] { count += 1 }
        }
        let taken = Array(jobs[..<count])
        jobs.removeFirst(count)
        return taken
    }

    /// Runs the jobs; returns false if the state machine can no longer apply (a failed rollback): the thread
    /// then stops and every queued or later job fails.
    private func perform(_ taken: [Job], on machine: MetaStateMachine) -> Bool {
        var replies: [@Sendable (Result<MetaCommandResult, MetaError>) -> Void] = []
        var batch: [(index: UInt64, command: [UInt8])] = []
        for job in taken {
            switch job {
            case .read(let body):
                body(machine)
            case .proposal(let command, let reply):
                // One voter: the next log index is the one after the last applied.
                batch.append((index: machine.appliedIndex() + 1 + UInt64(batch.count), command: command))
                replies.append(reply)
            }
        }
        guard !batch.isEmpty else { return true }
        do {
            let results = try machine.apply(batch: batch)
            precondition(results.count == replies.count, "\(results.count) results for \(replies.count) commands")
            for (reply, result) in zip(replies, results) { reply(.success(result)) }
        } catch let stopped as MetaStateMachineStopped {
            logger.critical("metadata apply thread stops: restart the server",
                            metadata: ["error": "\(stopped)", "commands": "\(batch.count)"])
            for reply in replies { reply(.failure(.internalFault("applying metadata: \(stopped)"))) }
            return false
        } catch {
            logger.error("metadata batch failed", metadata: ["error": "\(error)", "commands": "\(batch.count)"])
            for reply in replies { reply(.failure(.internalFault("applying metadata: \(error)"))) }
        }
        return true
    }

    private func finishThread() {
        condition.lock()
        state = .stopped
        let waiters = closeWaiters
        closeWaiters = []
        let abandoned = jobs
        jobs = []
        condition.unlock()
        for job in abandoned {
            switch job {
            case .proposal(_, let reply): reply(.failure(.unavailable("metadata service is closed")))
            case .read(let body): body(nil)
            }
        }
        for waiter in waiters { waiter.resume() }
    }
}
