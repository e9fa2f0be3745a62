/// A log entry as the write-ahead log recovered it.
public struct WALEntry: Sendable, Equatable {
    /// The Raft log index.
    public var index: UInt64
    /// The opaque payload given to `SegmentedWAL.append`.
    public var payload: [UInt8]

    public init(index: UInt64, payload: [UInt8]) {
        self.index = index
        self.payload = payload
    }
}

/// What `SegmentedWAL.open` recovered: the durable state to load into the Raft log before the node starts.
public struct WALRecovery: Sendable, Equatable {
    /// The newest hard state written, or nil if none ever was.
    public var hardState: [UInt8]?
    /// Entries at or below this index were compacted away (a snapshot covers them). 0 if never compacted.
    public var compactedThroughIndex: UInt64
    /// The payload of the newest `.compact` record (the snapshot metadata), or nil.
    public var compactPayload: [UInt8]?
    /// The log after compaction. Invariant: contiguous, and the first index is `compactedThroughIndex + 1`.
    public var entries: [WALEntry]
    /// How many bytes of a torn tail recovery cut off the last segment (0 when the tail was clean).
    public var tornBytesTruncated: Int

    public init() {
        hardState = nil
        compactedThroughIndex = 0
        compactPayload = nil
        entries = []
        tornBytesTruncated = 0
    }
}

/// Applies records in log order to rebuild the durable state (pure; the recovery of `SegmentedWAL` feeds it).
struct WALReplay {
    var state = WALRecovery()

    /// Applies one record; a description of the inconsistency when the record cannot follow the log so far.
    mutating func apply(_ record: WALRecord) -> String? {
        switch record {
        case .hardState(let payload):
            state.hardState = payload
        case .truncateSuffix(let fromIndex):
            if let position = state.entries.firstIndex(where: { $0.index >= fromIndex }) {
                state.entries.removeSubrange(position...)
            }
        case .compact(let throughIndex, let payload):
            if throughIndex >= state.compactedThroughIndex {
                state.compactedThroughIndex = throughIndex
                state.compactPayload = payload
            }
            let drop = state.entries.prefix { $0.index <= throughIndex }.count
            state.entries.removeFirst(drop)
        case .entry(let index, let payload):
            return applyEntry(index: index, payload: payload)
        }
        return nil
    }

    private mutating func applyEntry(index: UInt64, payload: [UInt8]) -> String? {
        guard index > state.compactedThroughIndex else {
            return "entry \(index) at or below the compaction point \(state.compactedThroughIndex)"
        }
        if let first = state.entries.first, let last = state.entries.last {
            guard index <= last.index + 1 else { return "log gap: entry \(index) after \(last.index)" }
            if index <= last.index {
                // A conflicting suffix: the newer entry replaces it and everything after it.
                if index < first.index {
                    state.entries.removeAll()
                } else {
                    state.entries.removeLast(Int(last.index - index + 1))
                }
            }
        }
        // An empty log accepts any start: earlier segments may have been deleted by compaction. `finish` checks
        // that the start meets the compaction point.
        state.entries.append(WALEntry(index: index, payload: payload))
        return nil
    }

    /// Checks the final shape; a description of the inconsistency, or nil.
    func finish() -> String? {
        if let first = state.entries.first, first.index != state.compactedThroughIndex + 1 {
            return "log starts at \(first.index) but compaction reached \(state.compactedThroughIndex)"
        }
        return nil
    }
}
