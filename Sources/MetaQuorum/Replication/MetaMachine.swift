import Foundation
public import Logging
public import RaftKit
public import MetaContract

/// The metadata state machine as RaftKit replicates it: `MetaStateMachine` (SQLite) on a thread of its own.
///
/// Every call — RaftKit's `apply`, `snapshot`, `restore`, and the queries a `RaftMetaLog` runs once a read is
/// linearizable — is a job on that one thread, in arrival order. So SQLite and its fsyncs never run on the
/// cooperative pool or the driver's actor, and the database is only ever touched by the thread that opened it.
///
/// Durability: the applied index is stored in the same SQLite transaction as the batch it covers, so after a
/// crash the machine reports exactly what it holds and RaftKit replays the committed entries above it. The
/// Raft WAL is the durable record of every command, so SQLite runs with `synchronous=NORMAL` (a power loss
/// may take the last transactions; they are replayed from the log, or a snapshot is restored).
///
/// Lifecycle: `open(directory:logger:)`, hand it to `RaftServer.start`, `close()` after the server's shutdown.
public final class MetaMachine: ReplicatedStateMachine, @unchecked Sendable {
    // @unchecked Sendable: every mutable field is read and written only while `condition` is locked; the
    // `MetaStateMachine` itself never leaves the thread (a local of `runThread`).

    private enum Job {
        case apply([Entry], through: UInt64, @Sendable (Result<[[UInt8]], any Error>) -> Void)
        case snapshot(to: String, @Sendable (Result<Void, any Error>) -> Void)
        case restore(fromFile: String, at: UInt64, @Sendable (Result<Void, any Error>) -> Void)
        /// Called with the state machine, or with nil if the machine closed before the job could run.
        case read(@Sendable (MetaStateMachine?) -> Void)
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var running = true
    private var stopped = false
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private let logger: Logger
    private let directory: String
    /// The largest command time applied so far (`MetaStateMachine.timeHighWater`), readable from any thread:
    /// the leader stamps new commands no earlier than this.
    private var committedTimeValue: Int64 = .min

    /// The largest command time applied here.
    var committedTime: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return committedTimeValue
    }

    private func noteCommittedTime(_ machine: MetaStateMachine) {
        condition.lock()
        committedTimeValue = machine.timeHighWater
        condition.unlock()
    }

    private init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// The SQLite file inside the machine's directory.
    static let databaseName = "meta.sqlite"

    /// Creates `directory` if needed, opens (or creates and migrates) `directory/meta.sqlite` on a new thread,
    /// and returns once it is open.
    public static func open(directory: String, logger: Logger) async throws(MetaError) -> MetaMachine {
        let machine = MetaMachine(directory: directory, logger: logger)
        let opened: Result<Void, MetaError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                machine.runThread { continuation.resume(returning: $0) }
            }
            thread.name = "silo-meta-apply"
            thread.start()
        }
        try opened.get()
        return machine
    }

    // MARK: ReplicatedStateMachine

    public func appliedIndex() async throws -> UInt64 {
        try await read { $0.appliedIndex() }
    }

    public func apply(_ entries: [Entry], through index: UInt64) async throws -> [[UInt8]] {
        let outcome: Result<[[UInt8]], any Error> = await withCheckedContinuation { continuation in
            let reply: @Sendable (Result<[[UInt8]], any Error>) -> Void = { continuation.resume(returning: $0) }
            if let refusal = enqueue(.apply(entries, through: index, reply)) { reply(.failure(refusal)) }
        }
        return try outcome.get()
    }

    public func writeSnapshot(to path: String) async throws {
        let outcome: Result<Void, any Error> = await withCheckedContinuation { continuation in
            let reply: @Sendable (Result<Void, any Error>) -> Void = { continuation.resume(returning: $0) }
            if let refusal = enqueue(.snapshot(to: path, reply)) { reply(.failure(refusal)) }
        }
        try outcome.get()
    }

    public func restore(fromFile path: String, at index: UInt64) async throws {
        let outcome: Result<Void, any Error> = await withCheckedContinuation { continuation in
            let reply: @Sendable (Result<Void, any Error>) -> Void = { continuation.resume(returning: $0) }
            if let refusal = enqueue(.restore(fromFile: path, at: index, reply)) { reply(.failure(refusal)) }
        }
        try outcome.get()
    }

    // MARK: Reads

    /// Runs `body` on the machine's thread, after every job queued before it. Linearizability is the caller's
    /// business (`RaftMetaLog` waits for the read index first).
    func read<T: Sendable>(_ body: @escaping @Sendable (MetaStateMachine) throws -> T) async throws(MetaError) -> T {
        let outcome: Result<T, MetaError> = await withCheckedContinuation { continuation in
            let job = Job.read { machine in
                guard let machine else {
                    return continuation.resume(returning: .failure(.unavailable("metadata state machine is closed")))
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

    /// Finishes queued jobs, closes the database and stops the thread. Later calls fail.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if stopped {
                condition.unlock()
                continuation.resume()
                return
            }
            closeWaiters.append(continuation)
            running = false
            condition.signal()
            condition.unlock()
        }
    }

    private func enqueue(_ job: Job) -> MetaError? {
        condition.lock()
        defer { condition.unlock() }
        guard running else { return .unavailable("metadata state machine is closed") }
        jobs.append(job)
        condition.signal()
        return nil
    }

    // MARK: The thread

    private func runThread(opened: (Result<Void, MetaError>) -> Void) {
        let machine: MetaStateMachine
        let path = directory + "/" + Self.databaseName
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            machine = try MetaStateMachine(path: path, durability: .replayedFromLog)
        } catch {
            finishThread()
            opened(.failure(.internalFault("opening the metadata database \(path): \(error)")))
            return
        }
        logger.info("metadata state machine open",
                    metadata: ["directory": "\(directory)", "appliedIndex": "\(machine.appliedIndex())"])
        noteCommittedTime(machine)
        opened(.success(()))
        while let job = nextJob() {
            guard perform(job, on: machine) else { break }
        }
        machine.close()
        logger.info("metadata state machine closed", metadata: ["appliedIndex": "\(machine.appliedIndex())"])
        finishThread()
    }

    private func nextJob() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty {
            if !running { return nil }
            condition.wait()
        }
        return jobs.removeFirst()
    }

    /// Runs one job; returns false once the machine can no longer apply (then the thread stops and every
    /// queued or later job fails: RaftKit stops the replica).
    private func perform(_ job: Job, on machine: MetaStateMachine) -> Bool {
        switch job {
        case .read(let body):
            body(machine)
        case .apply(let entries, let through, let reply):
            do {
                let batch = entries.map { (index: $0.index, command: $0.data) }
                let results = try machine.apply(batch: batch, through: through)
                noteCommittedTime(machine)
                reply(.success(results.map { $0.encode() }))
            } catch {
                logger.critical("metadata apply failed: the replica stops", metadata: ["error": "\(error)"])
                reply(.failure(error))
                return false
            }
        case .snapshot(let path, let reply):
            // The whole database as one consistent SQLite file (the backup API, between two applies), written
            // straight to the driver's staging file: never held in memory.
            reply(Result { _ = try machine.snapshot(to: path) })
        case .restore(let path, let index, let reply):
            do {
                try restore(machine, fromFile: path, at: index)
                noteCommittedTime(machine)
                reply(.success(()))
            } catch {
                logger.critical("metadata snapshot restore failed: the replica stops", metadata: ["error": "\(error)"])
                reply(.failure(error))
                return false
            }
        }
        return true
    }

    private func restore(_ machine: MetaStateMachine, fromFile path: String, at index: UInt64) throws {
        let restored = try machine.restore(from: path)
        guard restored == index else {
            throw MetaError.internalFault("snapshot at log index \(index) holds applied index \(restored)")
        }
    }

    private func finishThread() {
        condition.lock()
        running = false
        stopped = true
        let waiters = closeWaiters
        closeWaiters = []
        let abandoned = jobs
        jobs = []
        condition.unlock()
        let closed = MetaError.unavailable("metadata state machine is closed")
        for job in abandoned {
            switch job {
            case .apply(_, _, let reply): reply(.failure(closed))
            case .snapshot(_, let reply): reply(.failure(closed))
            case .restore(_, _, let reply): reply(.failure(closed))
            case .read(let body): body(nil)
            }
        }
        for waiter in waiters { waiter.resume() }
    }
}
