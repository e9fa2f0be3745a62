internal import DequeModule

/// A leader's view of one follower's log (etcd's `Progress`).
/// Invariant: `match < next`; in `.snapshot` state nothing but snapshot chunks is sent.
struct Progress: Sendable {
    enum State: Sendable, CustomStringConvertible {
        /// One append at a time until the follower's position is found.
        case probe
        /// Optimistic pipelining: `next` runs ahead of `match`, bounded by `inflights`.
        case replicate
        /// Sending a snapshot in chunks; appends are paused.
        case snapshot

        var description: String {
            switch self {
            case .probe: return "probe"
            case .replicate: return "replicate"
            case .snapshot: return "snapshot"
            }
        }
    }

    var match: UInt64 = 0
    var next: UInt64
    var state: State = .probe
    /// In `.probe`: an append is outstanding; wait for a response or a heartbeat response.
    var probeSent = false
    /// In `.snapshot`: the index of the snapshot being sent.
    var pendingSnapshot: UInt64 = 0
    /// Heard from since the last check-quorum round.
    var recentActive = false
    var inflights: Inflights
    /// The highest ReadIndex round this follower confirmed.
    var readRoundAcked: UInt64 = 0
    var snapshotTransfer: SnapshotTransfer?

    init(next: UInt64, inflightsMax: Int, inflightBytesMax: Int) {
        self.next = next
        self.inflights = Inflights(countMax: inflightsMax, bytesMax: inflightBytesMax)
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    mutating func resetState(_ newState: State) {
        probeSent = false
        pendingSnapshot = 0
        snapshotTransfer = nil
        state = newState
        inflights.reset()
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            let pending = pendingSnapshot
            resetState(.probe)
            next = max(match + 1, pending + 1)
        } else {
            resetState(.probe)
            next = match + 1
        }
    }

    mutating func becomeReplicate() {
        resetState(.replicate)
        next = match + 1
    }

    mutating func becomeSnapshot(index: UInt64, transfer: SnapshotTransfer) {
        resetState(.snapshot)
        pendingSnapshot = index
        snapshotTransfer = transfer
    }

    /// Records an acknowledgement up to `index`; false if it was stale.
    mutating func maybeUpdate(_ index: UInt64) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Moves `next` back after a rejection of the append after `rejected`; false if the rejection is stale.
    mutating func maybeDecrease(rejected: UInt64, matchHint: UInt64) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }

    /// Bookkeeping after sending `count` entries ending at `lastIndex` with `bytes` bytes.
    mutating func sentEntries(count: Int, lastIndex: UInt64, bytes: Int) {
        switch state {
        case .replicate:
            if count > 0 {
                next = lastIndex + 1
                inflights.add(index: lastIndex, bytes: bytes)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("sending entries in snapshot state")
        }
    }
}

/// Appends in flight to one follower, bounded by count and bytes (flow control).
struct Inflights: Sendable {
    let countMax: Int
    let bytesMax: Int
    private var queue: Deque<(index: UInt64, bytes: Int)> = []
    private(set) var bytes = 0

    init(countMax: Int, bytesMax: Int) {
        self.countMax = countMax
        self.bytesMax = bytesMax
    }

    var count: Int { queue.count }
    var isFull: Bool { queue.count >= countMax || bytes >= bytesMax }

    mutating func add(index: UInt64, bytes: Int) {
        if let last = queue.last { precondition(index > last.index, "inflight \(index) after \(last.index)") }
        queue.append((index, bytes))
        self.bytes += bytes
    }

    /// Frees every append ending at or below `index`.
    mutating func free(upTo index: UInt64) {
        while let first = queue.first, first.index <= index {
            bytes -= first.bytes
            queue.removeFirst()
        }
    }

    mutating func freeFirst() {
        if let first = queue.popFirst() { bytes -= first.bytes }
    }

    mutating func reset() {
        queue.removeAll()
        bytes = 0
    }
}

/// A snapshot being streamed to one follower in chunks of `chunkBytes`, each read from the payload when it
/// is sent (so a transfer holds a few chunks in flight, never the whole image).
struct SnapshotTransfer: Sendable {
    let snapshot: Snapshot
    let chunkBytes: Int
    /// The next chunk to send.
    var nextChunk = 0
    /// Chunks the follower confirmed holding.
    var ackedChunks = 0
    /// Heartbeat responses seen since the last acknowledgement (to resend lost chunks).
    var idleHeartbeats = 0

    var totalBytes: UInt64 { snapshot.payload.byteCount }
    var chunkCount: Int { max(1, Int((totalBytes + UInt64(chunkBytes) - 1) / UInt64(chunkBytes))) }

    func chunk(_ number: Int) throws(LogStorageError) -> (offset: UInt64, data: [UInt8]) {
        let start = UInt64(number) * UInt64(chunkBytes)
        let count = Int(min(UInt64(chunkBytes), totalBytes - min(start, totalBytes)))
        return (start, try snapshot.payload.read(at: start, count: count))
    }
}
