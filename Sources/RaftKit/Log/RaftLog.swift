/// The log as the core sees it: durable entries behind `LogStorage`, then the `Unstable` tail.
/// Invariant: `applied <= committed <= lastIndex`, and `committed` never decreases.
struct RaftLog: Sendable {
    let storage: any LogStorage
    var unstable: Unstable
    /// Highest index known committed.
    private(set) var committed: UInt64
    /// Highest index the application has applied (reported through `advance`).
    private(set) var applied: UInt64

    init(storage: any LogStorage) {
        self.storage = storage
        let first = storage.firstIndex()
        self.unstable = Unstable(offset: storage.lastIndex() + 1)
        self.committed = first - 1
        self.applied = first - 1
    }

    var firstIndex: UInt64 { unstable.firstIndexIfKnown ?? storage.firstIndex() }
    var lastIndex: UInt64 { unstable.lastIndexIfKnown ?? storage.lastIndex() }
    var lastTerm: UInt64 {
        let last = lastIndex
        guard let t = try? term(at: last) else { preconditionFailure("no term for last index \(last)") }
        return t
    }

    func term(at index: UInt64) throws(LogStorageError) -> UInt64 {
        let dummy = firstIndex - 1
        if index < dummy { throw .compacted }
        if index > lastIndex { throw .unavailable }
        if let t = unstable.term(at: index) { return t }
        return try storage.term(at: index)
    }

    /// The term at `index`, or nil when it is compacted or beyond the log. Any other storage error traps, as in
    /// etcd: a log that cannot be read is not a term mismatch, and treating it as one (a rejection, a new
    /// snapshot, a lost vote) would hide a broken disk behind ordinary Raft traffic.
    func termIfStored(_ index: UInt64) -> UInt64? {
        do throws(LogStorageError) {
            return try term(at: index)
        } catch {
            switch error {
            case .compacted, .unavailable: return nil
            case .snapshotTemporarilyUnavailable, .io: preconditionFailure("log storage failed reading the term at \(index): \(error)")
            }
        }
    }

    /// The term at `index`, or 0 when it is compacted or beyond the log (never matches a real term).
    func termOrZero(_ index: UInt64) -> UInt64 { termIfStored(index) ?? 0 }

    func matchTerm(_ index: UInt64, _ term: UInt64) -> Bool {
        guard let t = termIfStored(index) else { return false }
        return t == term
    }

    func isUpToDate(lastIndex candidateIndex: UInt64, lastTerm candidateTerm: UInt64) -> Bool {
        let myTerm = lastTerm
        return candidateTerm > myTerm || (candidateTerm == myTerm && candidateIndex >= lastIndex)
    }

    /// The first entry of `entries` that is missing or conflicts with this log (0 if none).
    func findConflict(_ entries: [Entry]) -> UInt64 {
        for entry in entries where !matchTerm(entry.index, entry.term) { return entry.index }
        return 0
    }

    /// The largest index ≤ `index` whose term is ≤ `term`, with that term (fast back-tracking, etcd's
    /// `findConflictByTerm`). Stops at the first index whose term is unknown (compacted).
    func findConflictByTerm(index: UInt64, term: UInt64) -> (index: UInt64, term: UInt64) {
        var i = index
        while true {
            guard let t = termIfStored(i) else { return (i, 0) }
            if t <= term || i == 0 { return (i, t) }
            i -= 1
        }
    }

    /// Appends `entries` after (`prevIndex`, `prevTerm`) if that position matches; returns the index of the last
    /// new entry, or nil on mismatch. Moves `committed` up to min(`leaderCommit`, last new index).
    mutating func maybeAppend(prevIndex: UInt64, prevTerm: UInt64, leaderCommit: UInt64, entries: [Entry]) -> UInt64? {
        guard matchTerm(prevIndex, prevTerm) else { return nil }
        let lastNew = prevIndex + UInt64(entries.count)
        let conflict = findConflict(entries)
        if conflict != 0 {
            precondition(conflict > committed, "entry \(conflict) conflicts with committed entry (committed \(committed))")
            let start = Int(conflict - (prevIndex + 1))
            append(Array(entries[start...]))
        }
        commit(to: min(leaderCommit, lastNew))
        return lastNew
    }

    @discardableResult
    mutating func append(_ entries: [Entry]) -> UInt64 {
        guard let first = entries.first else { return lastIndex }
        precondition(first.index > committed, "append at \(first.index) would overwrite committed \(committed)")
        precondition(first.index <= lastIndex + 1, "append gap: \(first.index) after \(lastIndex)")
        unstable.truncateAndAppend(entries)
        return lastIndex
    }

    mutating func commit(to index: UInt64) {
        guard index > committed else { return }
        precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex): log lost or truncated?")
        committed = index
    }

    mutating func applied(to index: UInt64) {
        guard index > applied else { return }
        precondition(index <= committed, "applied \(index) beyond committed \(committed)")
        applied = index
    }

    mutating func stableTo(index: UInt64, term: UInt64) { unstable.stableTo(index: index, term: term) }

    /// The last index the shell has made durable (`advance`d); 0 while a received snapshot is not yet durable.
    var lastDurableIndex: UInt64 { unstable.snapshot != nil ? 0 : min(unstable.offset - 1, lastIndex) }
    mutating func stableSnapshotTo(index: UInt64) { unstable.stableSnapshotTo(index: index) }

    mutating func restore(_ snapshot: Snapshot) {
        committed = snapshot.metadata.index
        unstable.restore(snapshot)
    }

    var unstableEntries: [Entry] { unstable.entries }

    /// Committed entries not yet applied, at most `bytesMax` (but at least one).
    func nextCommittedEntries(bytesMax: Int) -> [Entry] {
        let lo = max(applied + 1, firstIndex)
        guard committed + 1 > lo else { return [] }
        do {
            return try slice(lo, committed + 1, bytesMax: bytesMax)
        } catch {
            preconditionFailure("committed entries \(lo)...\(committed) unreadable: \(error)")
        }
    }

    var hasNextCommittedEntries: Bool { committed > max(applied, firstIndex - 1) }

    func snapshot() throws(LogStorageError) -> Snapshot {
        if let snapshot = unstable.snapshot { return snapshot }
        return try storage.snapshot()
    }

    /// Entries from `index` to the end, at most `bytesMax` and `countMax` (at least one).
    func entries(from index: UInt64, bytesMax: Int, countMax: Int) throws(LogStorageError) -> [Entry] {
        let last = lastIndex
        if index > last { return [] }
        return try slice(index, min(last + 1, index + UInt64(countMax)), bytesMax: bytesMax)
    }

    /// Entries in `lo ..< hi`, at most `bytesMax` (at least one).
    func slice(_ lo: UInt64, _ hi: UInt64, bytesMax: Int) throws(LogStorageError) -> [Entry] {
        if lo < firstIndex { throw .compacted }
        if hi > lastIndex + 1 { throw .unavailable }
        guard lo < hi else { return [] }
        var result: [Entry] = []
        if lo < unstable.offset {
            let stored = try storage.entries(from: lo, to: min(hi, unstable.offset), bytesMax: bytesMax)
            if UInt64(stored.count) < min(hi, unstable.offset) - lo { return stored }
            result = stored
        }
        if hi > unstable.offset {
            let part = unstable.slice(max(lo, unstable.offset), hi)
            if result.isEmpty { return limitSize(part, bytesMax: bytesMax) }
            var size = result.reduce(0) { $0 + $1.sizeBytes }
            for entry in part {
                size += entry.sizeBytes
                if size > bytesMax { break }
                result.append(entry)
            }
        }
        return result
    }
}
