import RaftKit

/// One write to a simulated disk.
enum DiskOp {
    case append([Entry])
    case hardState(HardState)
    case snapshot(Snapshot)
    case compact(index: UInt64, confState: ConfState, data: [UInt8])
}

/// The contents of a simulated Raft data directory (WAL plus snapshot file).
struct DiskState {
    var hardState = HardState()
    var snapshot = Snapshot()
    /// Invariant: `entries[i].index == snapshot.metadata.index + 1 + i`.
    var entries: [Entry] = []

    var firstIndex: UInt64 { snapshot.metadata.index + 1 }
    var lastIndex: UInt64 { snapshot.metadata.index + UInt64(entries.count) }

    func term(at index: UInt64) -> UInt64? {
        if index + 1 == firstIndex { return snapshot.metadata.term }
        guard index >= firstIndex, index <= lastIndex else { return nil }
        return entries[Int(index - firstIndex)].term
    }

    mutating func apply(_ op: DiskOp) {
        switch op {
        case .append(let new):
            guard let first = new.first else { return }
            precondition(first.index <= lastIndex + 1, "disk append gap: \(first.index) after \(lastIndex)")
            var suffix = new[...]
            while let head = suffix.first, head.index < firstIndex { suffix.removeFirst() }
            guard let start = suffix.first?.index else { return }
            entries.removeSubrange(Int(start - firstIndex)...)
            entries.append(contentsOf: suffix)
        case .hardState(let state):
            hardState = state
        case .snapshot(let snap):
            let index = snap.metadata.index
            guard index > snapshot.metadata.index else { return }
            if let t = term(at: index), t == snap.metadata.term, index <= lastIndex {
                entries.removeSubrange(0...Int(index - firstIndex))
            } else {
                entries = []
            }
            snapshot = snap
        case .compact(let index, let confState, let data):
            guard index > snapshot.metadata.index, index <= lastIndex else { return }
            let t = entries[Int(index - firstIndex)].term
            entries.removeSubrange(0...Int(index - firstIndex))
            snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: t, confState: confState), data: data)
        }
    }
}

/// A disk that loses what was not fsynced when its node crashes: every write lands in `current` (what the
/// OS page cache would serve) and only `fsync()` makes it durable. A crash keeps the durable state plus a
/// random prefix of the pending writes, sometimes tearing the last appended batch (a WAL whose torn tail
/// is detected and truncated on recovery ends up the same way).
///
/// `@unchecked Sendable`: a `SimDisk` is created, read and written only on the simulator's single thread;
/// the `RaftNode` that holds it as its `LogStorage` never leaves that thread either.
final class SimDisk: LogStorage, @unchecked Sendable {
    private(set) var current = DiskState()
    /// The durable state, when it differs from `current` (that is, while writes are pending).
    private var durable: DiskState?
    private var pending: [DiskOp] = []

    init(confState: ConfState) { current.snapshot.metadata.confState = confState }

    var hasPendingWrites: Bool { !pending.isEmpty }

    /// What a crash now would at least keep: the state as of the last fsync.
    var durableState: DiskState { durable ?? current }

    func write(_ op: DiskOp) {
        if durable == nil { durable = current }
        current.apply(op)
        pending.append(op)
    }

    func fsync() {
        durable = nil
        pending = []
    }

    /// The state a restart sees. Returns the number of pending writes that were lost (a torn batch counts).
    @discardableResult
    func crash(random: inout SimRandom, tearProbability: Double) -> Int {
        guard let base = durable else { return 0 }
        var state = base
        let keep = random.int(0...pending.count)
        for op in pending.prefix(keep) { state.apply(op) }
        var lost = pending.count - keep
        if keep < pending.count, case .append(let entries) = pending[keep], entries.count > 1,
            random.chance(tearProbability)
        {
            state.apply(.append(Array(entries.prefix(random.int(1...entries.count - 1)))))
            lost -= 1
        }
        current = state
        durable = nil
        pending = []
        return lost
    }

    // MARK: LogStorage

    func initialState() throws(LogStorageError) -> (hardState: HardState, confState: ConfState) {
        (current.hardState, current.snapshot.metadata.confState)
    }

    func entries(from lo: UInt64, to hi: UInt64, bytesMax: Int) throws(LogStorageError) -> [Entry] {
        if lo < current.firstIndex { throw .compacted }
        if hi > current.lastIndex + 1 { throw .unavailable }
        guard lo < hi else { return [] }
        let first = current.firstIndex
        var total = 0
        var result: [Entry] = []
        for i in Int(lo - first)..<Int(hi - first) {
            let entry = current.entries[i]
            total += entry.sizeBytes
            if total > bytesMax && !result.isEmpty { break }
            result.append(entry)
        }
        return result
    }

    func term(at index: UInt64) throws(LogStorageError) -> UInt64 {
        if index + 1 < current.firstIndex { throw .compacted }
        guard let t = current.term(at: index) else { throw .unavailable }
        return t
    }

    func firstIndex() -> UInt64 { current.firstIndex }
    func lastIndex() -> UInt64 { current.lastIndex }
    func snapshot() throws(LogStorageError) -> Snapshot { current.snapshot }
}
