// Log replication: proposals, appends with batching and pipelining, flow control, fast back-tracking, the
// commit rule, snapshots in chunks, and membership bookkeeping.

extension RaftNode {
    // MARK: Proposals

    func checkCanPropose(bytes: Int) throws(ProposeError) {
        guard role == .leader else { throw .notLeader(leaderHint: leaderID == 0 ? nil : leaderID) }
        guard leadTransferee == 0 else { throw .leadershipTransferInProgress }
        guard bytes <= Limits.entryDataBytesMax else {
            throw .entryTooLarge(bytes: bytes, max: Limits.entryDataBytesMax)
        }
        guard uncommittedBytes == 0 || uncommittedBytes + bytes <= config.uncommittedBytesMax else {
            throw .uncommittedLimitReached
        }
    }

    mutating func appendAsLeader(kind: EntryKind, data: [UInt8]) -> (index: UInt64, term: UInt64) {
        let entry = Entry(term: term, index: log.lastIndex + 1, kind: kind, data: data)
        log.append([entry])
        uncommittedBytes += data.count
        if kind == .confChange { noteAppended([entry], from: entry.index) }
        progress[id]?.next = entry.index + 1
        // The leader's own copy counts towards the quorum only once durable (`countOwnDurableEntries`), since
        // its appends may leave before its fsync (`Ready.earlyMessageCount`).
        #if DEBUG
        if config.faults.contains(.leaderCountsItselfBeforePersist) {
            progress[id]?.match = entry.index
            _ = maybeCommit()
        }
        #endif
        // Batching: every proposal made before the next `ready()` travels in one append per follower.
        broadcastPending = true
        return (entry.index, entry.term)
    }

    func nextConfState(_ change: ConfChange, address: String?) throws(ProposeError) -> ConfState {
        var voters = confState.voters
        var learners = confState.learners
        var addresses = confState.addresses
        if let address {
            guard case .addLearner = change else { throw .invalidConfChange("only a new learner comes with an address") }
            guard address.utf8.count <= Limits.addressBytesMax else {
                throw .invalidConfChange("address of \(address.utf8.count) bytes exceeds \(Limits.addressBytesMax)")
            }
        }
        switch change {
        case .addLearner(let node):
            guard node != 0, !confState.contains(node) else {
                throw .invalidConfChange("node \(node) is already a member (or 0)")
            }
            guard confState.members.count < Limits.membersMax else {
                throw .invalidConfChange("membership full at \(Limits.membersMax)")
            }
            learners.append(node)
            addresses[node] = address
        case .promoteLearner(let node):
            guard learners.contains(node) else { throw .invalidConfChange("node \(node) is not a learner") }
            let match = progress[node]?.match ?? 0
            guard match + Limits.learnerCatchUpEntriesMax >= log.lastIndex else { throw .learnerNotCaughtUp(node) }
            learners.removeAll { $0 == node }
            voters.append(node)
        case .removeNode(let node):
            guard confState.contains(node) else { throw .invalidConfChange("node \(node) is not a member") }
            guard node != id else { throw .invalidConfChange("a leader cannot remove itself; transfer first") }
            voters.removeAll { $0 == node }
            learners.removeAll { $0 == node }
            addresses[node] = nil
        }
        return ConfState(voters: voters, learners: learners, addresses: addresses)
    }

    // MARK: Membership bookkeeping

    /// Records `.confChange` entries appended at `from...` (everything at or after `from` was replaced).
    mutating func noteAppended(_ entries: [Entry], from: UInt64) {
        confHistory.removeAll { $0.index >= from }
        for entry in entries where entry.kind == .confChange && entry.index >= from {
            guard let record = try? ConfChangeRecord(decoding: entry.data) else {
                preconditionFailure("undecodable membership change at \(entry.index)")
            }
            confHistory.append((entry.index, record.confState))
        }
        applyConfState(confHistory.last?.confState ?? baseConfState)
    }

    mutating func applyConfState(_ next: ConfState) {
        guard next != confState else { return }
        confState = next
        guard role == .leader else { return }
        let last = log.lastIndex
        for member in next.members where progress[member] == nil {
            var pr = Progress(next: last + 1, inflightsMax: config.inflightAppendsMax,
                inflightBytesMax: config.inflightBytesMax)
            pr.recentActive = true
            progress[member] = pr
        }
        for member in progress.keys.sorted() where !next.contains(member) && member != id {
            progress[member] = nil
            if member == leadTransferee { leadTransferee = 0 }
        }
        precondition(next.voters.contains(id), "leader \(id) left the voters \(next.voters)")
        _ = maybeCommit()
    }

    /// Drops history entries made redundant by a later committed one.
    mutating func trimConfHistory() {
        guard let lastCommitted = confHistory.lastIndex(where: { $0.index <= log.committed }), lastCommitted > 0
        else { return }
        confHistory.removeFirst(lastCommitted)
    }

    // MARK: Leader

    /// Called from `advance` for the last entry of a `Ready` the shell made durable: a leader now counts its own
    /// log up to that entry towards the commit quorum (if the entry is still in its log), and tells the
    /// followers when that moved the commit index.
    mutating func countOwnDurableEntries(upTo last: Entry) {
        guard role == .leader, var pr = progress[id], last.index > pr.match, log.matchTerm(last.index, last.term)
        else { return }
        pr.match = last.index
        progress[id] = pr
        if maybeCommit() { broadcastPending = true }
    }

    /// Advances the commit index to the highest index stored on a quorum of voters, if that entry is from the
    /// current term (Raft Figure 8). Returns true if it moved.
    mutating func maybeCommit() -> Bool {
        var matches: [UInt64] = []
        matches.reserveCapacity(confState.voters.count)
        for voter in confState.voters { matches.append(progress[voter]?.match ?? 0) }
        guard !matches.isEmpty else { return false }
        matches.sort(by: >)
        let candidate = matches[quorum - 1]
        guard candidate > log.committed else { return false }
        var termOK = log.termOrZero(candidate) == term
        #if DEBUG
        if config.faults.contains(.commitPreviousTermByCount) { termOK = true }
        #endif
        guard termOK else { return false }
        log.commit(to: candidate)
        trimConfHistory()
        releaseReadsAwaitingCommit()
        return true
    }

    mutating func broadcastAppend() {
        for member in confState.members where member != id { _ = maybeSendAppend(to: member, sendIfEmpty: true) }
    }

    mutating func broadcastHeartbeat() {
        for member in confState.members where member != id {
            guard let pr = progress[member] else { continue }
            send(to: member, .heartbeat(commit: min(pr.match, log.committed), readRound: readOnly.round))
        }
    }

    /// Sends the next batch of entries (or a snapshot) to `target` if flow control allows; false if nothing sent.
    mutating func maybeSendAppend(to target: NodeID, sendIfEmpty: Bool) -> Bool {
        guard var pr = progress[target], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        let prevTerm: UInt64
        let entries: [Entry]
        do throws(LogStorageError) {
            prevTerm = try log.term(at: prevIndex)
            entries = try log.entries(from: pr.next, bytesMax: config.appendBytesMax, countMax: config.appendEntriesMax)
        } catch {
            switch error {
            case .compacted, .unavailable: return sendSnapshot(to: target)
            case .snapshotTemporarilyUnavailable, .io: preconditionFailure("log storage failed reading entries for \(target): \(error)")
            }
        }
        if entries.isEmpty && !sendIfEmpty { return false }
        send(to: target, .append(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.committed))
        let bytes = entries.reduce(0) { $0 + $1.sizeBytes }
        pr.sentEntries(count: entries.count, lastIndex: entries.last?.index ?? prevIndex, bytes: bytes)
        progress[target] = pr
        return true
    }

    mutating func sendSnapshot(to target: NodeID) -> Bool {
        guard var pr = progress[target], pr.recentActive else { return false }
        let snapshot: Snapshot
        do throws(LogStorageError) {
            snapshot = try log.snapshot()
        } catch {
            switch error {
            case .snapshotTemporarilyUnavailable, .compacted, .unavailable: return false  // ask again on a later tick
            case .io: preconditionFailure("log storage failed reading the snapshot: \(error)")
            }
        }
        guard !snapshot.isEmpty else { return false }
        pr.becomeSnapshot(index: snapshot.metadata.index,
            transfer: SnapshotTransfer(snapshot: snapshot, chunkBytes: config.snapshotChunkBytes))
        progress[target] = pr
        sendSnapshotChunks(to: target)
        return true
    }

    mutating func sendSnapshotChunks(to target: NodeID) {
        guard var pr = progress[target], var transfer = pr.snapshotTransfer else { return }
        while transfer.nextChunk < transfer.chunkCount
            && transfer.nextChunk - transfer.ackedChunks < Limits.snapshotChunksInflightMax
        {
            let chunk: (offset: UInt64, data: [UInt8])
            do throws(LogStorageError) {
                chunk = try transfer.chunk(transfer.nextChunk)
            } catch {
                // The payload could not be read (a disk error): abandon this transfer; the next probe starts
                // another from the newest snapshot.
                pr.becomeProbe()
                progress[target] = pr
                return
            }
            send(to: target, .snapshotChunk(metadata: transfer.snapshot.metadata, offset: chunk.offset,
                totalBytes: transfer.totalBytes, data: chunk.data))
            transfer.nextChunk += 1
        }
        pr.snapshotTransfer = transfer
        progress[target] = pr
    }

    mutating func stepLeader(_ m: Message) {
        guard progress[m.from] != nil else { return }  // not a member (any more)
        progress[m.from]!.recentActive = true
        switch m.kind {
        case .appendAccepted(let matchIndex):
            handleAppendAccepted(from: m.from, matchIndex: matchIndex)
        case .appendRejected(let rejected, let hintIndex, let hintTerm):
            var nextProbe = hintIndex
            if hintTerm > 0 { nextProbe = log.findConflictByTerm(index: hintIndex, term: hintTerm).index }
            if progress[m.from]!.maybeDecrease(rejected: rejected, matchHint: nextProbe) {
                if progress[m.from]!.state == .replicate { progress[m.from]!.becomeProbe() }
                _ = maybeSendAppend(to: m.from, sendIfEmpty: true)
            }
        case .heartbeatResponse(let round):
            handleHeartbeatResponse(from: m.from, round: round)
        case .snapshotAck(let index, let nextOffset):
            handleSnapshotAck(from: m.from, index: index, nextOffset: nextOffset)
        case .readIndexRequest(let context):
            if readOnly.pendingCount < config.pendingReadsMax { leaderReadIndex(requester: m.from, context: context) }
        case .append, .heartbeat, .snapshotChunk:
            // Two leaders in one term would break election safety.
            preconditionFailure("leader \(id) got \(m.kind.name) from \(m.from) in its own term \(term)")
        case .voteRequest, .voteResponse, .timeoutNow, .readIndexResponse:
            break
        }
    }

    mutating func handleAppendAccepted(from peer: NodeID, matchIndex: UInt64) {
        var pr = progress[peer]!
        let wasPaused = pr.isPaused
        guard pr.maybeUpdate(matchIndex) else { return }
        switch pr.state {
        case .probe:
            pr.becomeReplicate()
        case .snapshot:
            if pr.match >= pr.pendingSnapshot || pr.match + 1 >= log.firstIndex {
                pr.becomeProbe()
                pr.becomeReplicate()
            }
        case .replicate:
            pr.inflights.free(upTo: matchIndex)
        }
        progress[peer] = pr
        if maybeCommit() {
            broadcastAppend()
        } else if wasPaused {
            _ = maybeSendAppend(to: peer, sendIfEmpty: false)
        }
        var sends = 0
        while sends < config.inflightAppendsMax && maybeSendAppend(to: peer, sendIfEmpty: false) { sends += 1 }
        if peer == leadTransferee && progress[peer]!.match == log.lastIndex {
            send(to: peer, .timeoutNow)
        }
    }

    mutating func handleHeartbeatResponse(from peer: NodeID, round: UInt64) {
        var pr = progress[peer]!
        pr.probeSent = false
        pr.readRoundAcked = max(pr.readRoundAcked, round)
        if pr.state == .replicate && pr.inflights.isFull { pr.inflights.freeFirst() }
        progress[peer] = pr
        if pr.state == .snapshot {
            progress[peer]!.snapshotTransfer?.idleHeartbeats += 1
            if let transfer = progress[peer]!.snapshotTransfer, transfer.idleHeartbeats >= Limits.snapshotTransferIdleHeartbeatsMax {
                progress[peer]!.snapshotTransfer!.nextChunk = transfer.ackedChunks
                progress[peer]!.snapshotTransfer!.idleHeartbeats = 0
                sendSnapshotChunks(to: peer)
            }
        } else if pr.match < log.lastIndex || pr.state == .probe {
            _ = maybeSendAppend(to: peer, sendIfEmpty: true)
        }
        releaseConfirmedReads()
    }

    mutating func handleSnapshotAck(from peer: NodeID, index: UInt64, nextOffset: UInt64) {
        guard var pr = progress[peer], pr.state == .snapshot, pr.pendingSnapshot == index,
            var transfer = pr.snapshotTransfer
        else { return }
        let acked = Int(min(nextOffset, transfer.totalBytes) / UInt64(transfer.chunkBytes))
        transfer.idleHeartbeats = 0
        if acked < transfer.nextChunk - 1 || acked < transfer.ackedChunks {
            transfer.nextChunk = acked  // the follower is missing a chunk: resend from its position
        }
        transfer.ackedChunks = acked
        transfer.nextChunk = max(transfer.nextChunk, acked)
        pr.snapshotTransfer = transfer
        progress[peer] = pr
        sendSnapshotChunks(to: peer)
    }

    // MARK: Follower

    mutating func stepFollower(_ m: Message) {
        switch m.kind {
        case .append(let prevIndex, let prevTerm, let entries, let commit):
            electionElapsed = 0
            leaderID = m.from
            handleAppend(from: m.from, prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case .heartbeat(let commit, let round):
            electionElapsed = 0
            leaderID = m.from
            log.commit(to: min(commit, log.lastIndex))
            trimConfHistory()
            send(to: m.from, .heartbeatResponse(readRound: round))
        case .snapshotChunk(let metadata, let offset, let totalBytes, let data):
            electionElapsed = 0
            leaderID = m.from
            handleSnapshotChunk(from: m.from, metadata: metadata, offset: offset, totalBytes: totalBytes, data: data)
        case .timeoutNow:
            if isPromotable { startCampaign(.transfer) }
        case .readIndexResponse(let context, let index):
            if readStates.count < config.pendingReadsMax { readStates.append(ReadState(index: index, context: context)) }
        case .appendAccepted, .appendRejected, .heartbeatResponse, .snapshotAck, .voteRequest, .voteResponse,
            .readIndexRequest:
            break
        }
    }

    mutating func handleAppend(from leader: NodeID, prevIndex: UInt64, prevTerm: UInt64, entries: [Entry], commit: UInt64) {
        if prevIndex < log.committed {
            send(to: leader, .appendAccepted(matchIndex: log.committed))
            return
        }
        guard log.matchTerm(prevIndex, prevTerm) else {
            let hint = log.findConflictByTerm(index: min(prevIndex, log.lastIndex), term: prevTerm)
            send(to: leader, .appendRejected(rejectedIndex: prevIndex, hintIndex: hint.index, hintTerm: hint.term))
            return
        }
        let lastNew = prevIndex + UInt64(entries.count)
        let conflict = log.findConflict(entries)
        if conflict != 0 {
            precondition(conflict > log.committed,
                "node \(id): entry \(conflict) conflicts with committed \(log.committed)")
            let suffix = Array(entries[Int(conflict - prevIndex - 1)...])
            log.append(suffix)
            if conflict <= confHistory.last?.index ?? 0 || suffix.contains(where: { $0.kind == .confChange }) {
                noteAppended(suffix, from: conflict)
            }
        }
        log.commit(to: min(commit, lastNew))
        trimConfHistory()
        send(to: leader, .appendAccepted(matchIndex: lastNew))
    }

    mutating func handleSnapshotChunk(
        from leader: NodeID, metadata: SnapshotMetadata, offset: UInt64, totalBytes: UInt64, data: [UInt8]
    ) {
        if metadata.index <= log.committed {
            dropIncomingSnapshot()
            send(to: leader, .appendAccepted(matchIndex: log.committed))
            return
        }
        if offset == 0 && totalBytes <= Limits.snapshotBytesMax {
            dropIncomingSnapshot()
            guard let sink = try? log.storage.makeSnapshotSink(for: metadata, totalBytes: totalBytes) else {
                send(to: leader, .snapshotAck(index: metadata.index, nextOffset: 0))
                return
            }
            incomingSnapshot = IncomingSnapshot(metadata: metadata, totalBytes: totalBytes, sink: sink)
        }
        guard var incoming = incomingSnapshot, incoming.metadata == metadata, incoming.totalBytes == totalBytes,
            incoming.received == offset, offset + UInt64(data.count) <= totalBytes
        else {
            let have = incomingSnapshot?.metadata == metadata ? incomingSnapshot!.received : 0
            send(to: leader, .snapshotAck(index: metadata.index, nextOffset: have))
            return
        }
        do throws(LogStorageError) {
            try incoming.sink.write(data, at: offset)
        } catch {
            // The disk refused the chunk: start over later (the leader resends from offset 0).
            incoming.sink.discard()
            incomingSnapshot = nil
            send(to: leader, .snapshotAck(index: metadata.index, nextOffset: 0))
            return
        }
        incoming.received += UInt64(data.count)
        if incoming.received < totalBytes {
            incomingSnapshot = incoming
            send(to: leader, .snapshotAck(index: metadata.index, nextOffset: incoming.received))
            return
        }
        incomingSnapshot = nil
        let payload: any SnapshotPayload
        do throws(LogStorageError) {
            payload = try incoming.sink.finish()
        } catch {
            incoming.sink.discard()
            send(to: leader, .snapshotAck(index: metadata.index, nextOffset: 0))
            return
        }
        if restore(Snapshot(metadata: metadata, payload: payload)) {
            send(to: leader, .appendAccepted(matchIndex: log.lastIndex))
        } else {
            send(to: leader, .appendAccepted(matchIndex: log.committed))
        }
    }

    /// Abandons the snapshot under assembly, if any (its sink releases the partial file).
    mutating func dropIncomingSnapshot() {
        incomingSnapshot?.sink.discard()
        incomingSnapshot = nil
    }

    /// Installs a complete snapshot; false if it was stale or the log already matched it.
    mutating func restore(_ snapshot: Snapshot) -> Bool {
        let meta = snapshot.metadata
        if meta.index <= log.committed { return false }
        if log.matchTerm(meta.index, meta.term) {
            log.commit(to: meta.index)
            trimConfHistory()
            return false
        }
        log.restore(snapshot)
        baseConfState = meta.confState
        confHistory = []
        applyConfState(meta.confState)
        return true
    }
}
