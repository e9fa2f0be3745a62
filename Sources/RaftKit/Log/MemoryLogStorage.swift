import Synchronization

/// A `LogStorage` held in memory, for tests and the simulator's volatile view, and the driver's index of
/// the durable log. Thread-safe (one mutex). The write side mirrors what a durable store does with a
/// `Ready`: `append`, `setHardState`, `applySnapshot`, plus `compact` for log compaction. Entries are held in
/// memory; snapshots are payloads (files of `snapshots` when given one, so incoming snapshots are
/// assembled on disk).
public final class MemoryLogStorage: LogStorage {
    struct State {
        var hardState = HardState()
        var snapshot = Snapshot()
        /// Invariant: `entries[i].index == snapshot.metadata.index + 1 + i`.
        var entries: [Entry] = []
        var firstIndex: UInt64 { snapshot.metadata.index + 1 }
        var lastIndex: UInt64 { snapshot.metadata.index + UInt64(entries.count) }
    }

    private let state: Mutex<State>
    private let snapshots: SnapshotStore?

    /// A fresh store whose membership is `confState` (the bootstrap membership at index 0). Incoming snapshots
    /// are assembled in files of `snapshots`, or in memory when it is nil.
    public init(confState: ConfState = ConfState(), snapshots: SnapshotStore? = nil) {
        var initial = State()
        initial.snapshot.metadata.confState = confState
        self.state = Mutex(initial)
        self.snapshots = snapshots
    }

    public func makeSnapshotSink(for metadata: SnapshotMetadata, totalBytes: UInt64) throws(LogStorageError) -> any SnapshotSink {
        guard let snapshots else { return SnapshotBytesSink() }
        do throws(StorageError) {
            return try snapshots.makeSink(index: metadata.index)
        } catch {
            throw .io("\(error)")
        }
    }

    public func initialState() throws(LogStorageError) -> (hardState: HardState, confState: ConfState) {
        state.withLock { ($0.hardState, $0.snapshot.metadata.confState) }
    }

    public func entries(from lo: UInt64, to hi: UInt64, bytesMax: Int) throws(LogStorageError) -> [Entry] {
        let result: Result<[Entry], LogStorageError> = state.withLock { s in
            if lo < s.firstIndex { return .failure(.compacted) }
            if hi > s.lastIndex + 1 { return .failure(.unavailable) }
            guard lo < hi else { return .success([]) }
            let start = Int(lo - s.firstIndex)
            let end = Int(hi - s.firstIndex)
            return .success(limitSize(s.entries[start..<end], bytesMax: bytesMax))
        }
        return try result.get()
    }

    public func term(at index: UInt64) throws(LogStorageError) -> UInt64 {
        let result: Result<UInt64, LogStorageError> = state.withLock { s in
            if index + 1 < s.firstIndex { return .failure(.compacted) }
            if index > s.lastIndex { return .failure(.unavailable) }
            if index + 1 == s.firstIndex { return .success(s.snapshot.metadata.term) }
            return .success(s.entries[Int(index - s.firstIndex)].term)
        }
        return try result.get()
    }

    public func firstIndex() -> UInt64 { state.withLock { $0.firstIndex } }
    public func lastIndex() -> UInt64 { state.withLock { $0.lastIndex } }
    public func snapshot() throws(LogStorageError) -> Snapshot { state.withLock { $0.snapshot } }

    /// The stored hard state.
    public var hardState: HardState { state.withLock { $0.hardState } }

    /// Stores `hardState` (a `Ready.hardState`).
    public func setHardState(_ hardState: HardState) { state.withLock { $0.hardState = hardState } }

    /// Appends `entries` (contiguous), first truncating any stored entries at or after `entries[0].index`.
    /// Entries at or below the snapshot index are ignored.
    public func append(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        state.withLock { s in
            precondition(first.index <= s.lastIndex + 1, "append gap: \(first.index) after \(s.lastIndex)")
            var toAppend = entries[...]
            while let head = toAppend.first, head.index < s.firstIndex { toAppend.removeFirst() }
            guard let start = toAppend.first?.index else { return }
            s.entries.removeSubrange(Int(start - s.firstIndex)...)
            s.entries.append(contentsOf: toAppend)
        }
    }

    /// Replaces the log with `snapshot` (a `Ready.snapshot`), keeping entries after it only if they match.
    public func applySnapshot(_ snapshot: Snapshot) {
        state.withLock { s in
            let index = snapshot.metadata.index
            guard index > s.snapshot.metadata.index else { return }
            if index <= s.lastIndex, s.entries[Int(index - s.firstIndex)].term == snapshot.metadata.term {
                s.entries.removeSubrange(0...Int(index - s.firstIndex))
            } else {
                s.entries = []
            }
            s.snapshot = snapshot
        }
    }

    /// Records a snapshot the application took at `index` (≤ last index) and drops the entries it covers.
    public func compact(snapshotAt index: UInt64, confState: ConfState, payload: any SnapshotPayload) {
        state.withLock { s in
            guard index > s.snapshot.metadata.index else { return }
            precondition(index <= s.lastIndex, "snapshot index \(index) beyond last index \(s.lastIndex)")
            let term = s.entries[Int(index - s.firstIndex)].term
            s.entries.removeSubrange(0...Int(index - s.firstIndex))
            s.snapshot = Snapshot(metadata: SnapshotMetadata(index: index, term: term, confState: confState), payload: payload)
        }
    }
}

/// Trims `entries` to the longest prefix whose sizes sum to at most `bytesMax`, keeping at least one.
func limitSize(_ entries: ArraySlice<Entry>, bytesMax: Int) -> [Entry] {
    var total = 0
    var end = entries.startIndex
    while end < entries.endIndex {
        total += entries[end].sizeBytes
        if total > bytesMax && end > entries.startIndex { break }
        end += 1
    }
    return Array(entries[entries.startIndex..<end])
}
