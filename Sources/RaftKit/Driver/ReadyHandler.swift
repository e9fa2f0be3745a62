/// The driver's handling of one `Ready`, as synchronous functions over protocols, so that a simulator can run the
/// same steps on fake disks and networks. The shell calls, in order:
/// 1. `sendEarly` — sends the messages that need not wait for this `Ready`'s durability (a leader's appends,
///    so followers write in parallel with the leader's own fsync);
/// 2. `stage` — updates the in-memory log and returns the WAL records to make durable;
/// 3. (the shell makes the records durable: `SegmentedWAL.append`);
/// 4. `deliver` — sends the other messages and plans what to apply; `apply` restores and applies it (awaited:
///    the machine runs on its own thread);
/// 5. `RaftNode.advance(ready)`.
///
/// When `canApplyDuringAppend` holds, the shell may instead plan (`plan`) and apply before step 3 finishes,
/// overlapping the machine's work with the fsync, and send the other messages (`sendLate`) once step 3 is
/// durable: the committed entries were made durable by an earlier `Ready`, so applying them never gets ahead
/// of the log (a single voter's steady state, where the entries committed now were appended one `Ready` ago).
public enum ReadyHandler {
    /// Step 1: sends `ready.messages[..<ready.earlyMessageCount]` through `send`.
    public static func sendEarly(_ ready: Ready, send: (Message) -> Void) {
        for message in ready.messages.prefix(ready.earlyMessageCount) { send(message) }
    }

    /// Step 2: applies `ready`'s snapshot, entries and hard state to `storage` and returns the WAL records that
    /// make the same changes durable (in one append, so one fsync covers them all).
    public static func stage(_ ready: Ready, into storage: MemoryLogStorage) -> [WALRecord] {
        var records: [WALRecord] = []
        if let snapshot = ready.snapshot {
            storage.applySnapshot(snapshot)
            var metadata: [UInt8] = []
            snapshot.metadata.encode(into: &metadata)
            records.append(.compact(throughIndex: snapshot.metadata.index, payload: metadata))
            if storage.lastIndex() == snapshot.metadata.index {
                // The store dropped entries after the snapshot that did not match it; so must recovery.
                records.append(.truncateSuffix(fromIndex: snapshot.metadata.index + 1))
            }
        }
        if !ready.entries.isEmpty {
            storage.append(ready.entries)
            for entry in ready.entries {
                var payload: [UInt8] = []
                entry.encode(into: &payload)
                records.append(.entry(index: entry.index, payload: payload))
            }
        }
        if let hardState = ready.hardState {
            storage.setHardState(hardState)
            var payload: [UInt8] = []
            hardState.encode(into: &payload)
            records.append(.hardState(payload))
        }
        return records
    }

    /// What `deliver` found to apply, and after `apply`, the results: the plan of step 4.
    public struct Delivery: Sendable {
        /// A snapshot newer than the machine's state, to restore before `entries`.
        public var restore: Snapshot?
        /// The committed `.normal` entries with data, for the machine, in index order.
        public var entries: [Entry] = []
        /// (index, term, result) for each entry the state machine applied, in index order (after `apply`).
        public var results: [(index: UInt64, term: UInt64, result: [UInt8])] = []
        /// Every committed entry handed to `deliver`, as (index, term), to settle proposals.
        public var committed: [(index: UInt64, term: UInt64)] = []
        /// The applied index before this delivery.
        public var previousAppliedIndex: UInt64 = 0
        /// The applied index after this delivery.
        public var appliedIndex: UInt64 = 0
        /// The membership in force at `appliedIndex` if this delivery changed it (an installed snapshot or an
        /// applied `.confChange` entry), else nil. A snapshot taken at `appliedIndex` must record this one, not
        /// `RaftNode.confState`, which already includes appended but uncommitted changes.
        public var confState: ConfState?
    }

    /// Step 4a: sends the rest of `ready.messages` (those after `earlyMessageCount`) through `send` (only call
    /// this once step 2 is durable), and works out what the machine must restore and apply. `appliedIndex` is the
    /// machine's applied index before the call.
    public static func deliver(_ ready: Ready, appliedIndex: UInt64, send: (Message) -> Void) -> Delivery {
        sendLate(ready, send: send)
        return plan(ready, appliedIndex: appliedIndex)
    }

    /// Whether `ready`'s committed entries may be applied while its WAL records are being made durable: it
    /// installs no snapshot and every committed entry is at or below `durableLastIndex`, the log's last index
    /// before `stage` (durable, since the previous `Ready`'s append finished). Committed entries are never
    /// overwritten, so those are the same entries the disk already holds.
    public static func canApplyDuringAppend(_ ready: Ready, durableLastIndex: UInt64) -> Bool {
        guard ready.snapshot == nil, let last = ready.committedEntries.last else { return false }
        return last.index <= durableLastIndex
    }

    /// Step 4a, first half: sends `ready.messages` after `earlyMessageCount` (only once step 2 is durable).
    public static func sendLate(_ ready: Ready, send: (Message) -> Void) {
        for message in ready.messages.dropFirst(ready.earlyMessageCount) { send(message) }
    }

    /// Step 4a, second half: what the machine must restore and apply, given its applied index before the call.
    public static func plan(_ ready: Ready, appliedIndex: UInt64) -> Delivery {
        var delivery = Delivery()
        delivery.previousAppliedIndex = appliedIndex
        var applied = appliedIndex
        if let snapshot = ready.snapshot, snapshot.metadata.index > applied {
            delivery.restore = snapshot
            applied = snapshot.metadata.index
            delivery.confState = snapshot.metadata.confState
        }
        for entry in ready.committedEntries where entry.index > applied {
            precondition(entry.index == applied + 1, "apply gap: entry \(entry.index) after \(applied)")
            applied = entry.index
            delivery.committed.append((entry.index, entry.term))
            if entry.kind == .normal && !entry.data.isEmpty { delivery.entries.append(entry) }
            if entry.kind == .confChange {
                // The core decoded this entry when it was appended; failing now is a bug, not bad input.
                guard let record = try? ConfChangeRecord(decoding: entry.data) else {
                    preconditionFailure("undecodable membership entry at \(entry.index)")
                }
                delivery.confState = record.confState
            }
        }
        delivery.appliedIndex = applied
        return delivery
    }

    /// Step 4b: restores and applies what `deliver` planned, on `machine`, and fills in the results.
    public static func apply<Machine: ReplicatedStateMachine>(
        _ delivery: Delivery, to machine: Machine
    ) async throws -> Delivery {
        var delivery = delivery
        if let snapshot = delivery.restore {
            // The driver saved the snapshot (`SnapshotStore.save`) before planning its delivery.
            guard let file = snapshot.payload as? SnapshotFile else {
                preconditionFailure("snapshot \(snapshot.metadata.index) delivered before it was saved to a file")
            }
            try await machine.restore(fromFile: file.path, at: snapshot.metadata.index)
        }
        let restoredThrough = delivery.restore?.metadata.index ?? delivery.previousAppliedIndex
        guard delivery.appliedIndex > restoredThrough else { return delivery }
        let results = try await machine.apply(delivery.entries, through: delivery.appliedIndex)
        precondition(results.count == delivery.entries.count,
                     "apply returned \(results.count) results for \(delivery.entries.count)")
        for (entry, result) in zip(delivery.entries, results) {
            delivery.results.append((entry.index, entry.term, result))
        }
        return delivery
    }
}
