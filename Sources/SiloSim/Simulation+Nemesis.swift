import RaftKit

// The nemesis (partitions, swizzle-clogging, crashes, membership changes, leadership transfers) and the
// liveness phase.
extension Simulation {
    var members: [SimNode] { nodes.filter { $0.status != .spare && $0.status != .retired } }

    func currentLeader() -> SimNode? {
        var best: SimNode?
        for node in nodes where node.isUp && node.raft!.role == .leader {
            if best == nil || node.raft!.term > best!.raft!.term { best = node }
        }
        return best
    }

    func nemesis() throws {
        for node in nodes {
            if case .down(let restartAt) = node.status, restartAt <= now { try start(node) }
        }
        let due = scheduledCrashes.filter { $0.at <= now }
        scheduledCrashes.removeAll { $0.at <= now }
        for planned in due {
            let victim = node(planned.node)
            guard victim.isUp, victim.raft!.role == .leader, victim.raft!.term == planned.term else { continue }
            try crash(victim, duringReady: false)
            victim.status = .down(restartAt: now + random.int(0...2 * options.electionTimeoutTicks))
        }
        if let end = partitionEndsAt, end <= now { healPartition() }
        while let first = clogSchedule.first, first.at <= now {
            clogSchedule.removeFirst()
            clogCut[first.from][first.to] = first.clog
            rebuildCuts()
        }
        if partitionEndsAt == nil && random.chance(options.partitionProbability) { startPartition() }
        if clogSchedule.isEmpty && random.chance(options.clogProbability) { startSwizzle() }
        if random.chance(options.crashProbability) {
            let up = nodes.filter { $0.isUp }
            if !up.isEmpty {
                let victim = random.chance(0.3) ? (currentLeader() ?? random.pick(up)) : random.pick(up)
                try crash(victim, duringReady: false)
            }
        }
        if random.chance(options.leaderChurnProbability), let leader = currentLeader() {
            try crash(leader, duringReady: false)
            leader.status = .down(restartAt: now + random.int(0...options.electionTimeoutTicks))
        }
        if !inLiveness && random.chance(options.readerCrashProbability) {
            // Not the leader: its own reads never cross the network.
            let readers = nodes.filter { $0.isUp && $0.raft!.role != .leader && !$0.reads.isEmpty }
            if !readers.isEmpty {
                let victim = random.pick(readers)
                try crash(victim, duringReady: false)
                victim.status = .down(restartAt: now)
            }
        }
        if !inLiveness && random.chance(options.crashDuringFsyncProbability) {
            let writing = nodes.filter { $0.isUp && $0.inflight != nil }
            if !writing.isEmpty { try crash(random.pick(writing), duringReady: true) }
        }
        if random.chance(options.membershipProbability) { changeMembership() }
        if random.chance(options.transferProbability), let leader = currentLeader() {
            let others = leader.raft!.confState.voters.filter { $0 != leader.id }
            if !others.isEmpty {
                let target = random.pick(others)
                if (try? leader.raft!.transferLeadership(to: target)) != nil {
                    transfers += 1
                    log("transfer leadership \(leader.id) -> \(target)")
                }
            }
        }
    }

    func rebuildCuts() {
        for i in network.cut.indices {
            for j in network.cut[i].indices { network.cut[i][j] = partitionCut[i][j] || clogCut[i][j] }
        }
    }

    func healPartition() {
        for i in partitionCut.indices { for j in partitionCut[i].indices { partitionCut[i][j] = false } }
        partitionEndsAt = nil
        rebuildCuts()
        log("heal partition")
    }

    func startPartition() {
        let ids = members.map { Int($0.id) - 1 }
        guard ids.count >= 2 else { return }
        let shuffled = random.shuffled(ids)
        var description = ""
        func cutBoth(_ a: Int, _ b: Int) {
            partitionCut[a][b] = true
            partitionCut[b][a] = true
        }
        switch random.int(0...5) {
        case 0:  // random halves
            let split = random.int(1...shuffled.count - 1)
            for a in shuffled[..<split] { for b in shuffled[split...] { cutBoth(a, b) } }
            description = "halves \(shuffled[..<split].map { $0 + 1 }) | \(shuffled[split...].map { $0 + 1 })"
        case 1:  // isolate the leader (or one node)
            let victim = currentLeader().map { Int($0.id) - 1 } ?? shuffled[0]
            for b in ids where b != victim { cutBoth(victim, b) }
            description = "isolate \(victim + 1)"
        case 2:  // bridge: two halves joined by one node
            guard shuffled.count >= 3 else { return }
            let bridge = shuffled[0]
            let rest = Array(shuffled[1...])
            let split = rest.count / 2
            for a in rest[..<split] { for b in rest[split...] { cutBoth(a, b) } }
            description = "bridge \(bridge + 1)"
        case 3:  // one node hears nobody (it can still send)
            let victim = shuffled[0]
            for b in ids where b != victim { partitionCut[b][victim] = true }
            description = "deaf \(victim + 1)"
        case 4:  // one node cannot send (it still hears)
            let victim = currentLeader().map { Int($0.id) - 1 } ?? shuffled[0]
            for b in ids where b != victim { partitionCut[victim][b] = true }
            description = "mute \(victim + 1)"
        default:  // ring: each node only talks to its neighbours (a cycle of one-way cuts for 3 nodes)
            let n = shuffled.count
            for (i, a) in shuffled.enumerated() {
                for (j, b) in shuffled.enumerated() where a != b {
                    let distance = min((i - j + n) % n, (j - i + n) % n)
                    if distance > 1 || (n == 3 && (j - i + n) % n == 1) { partitionCut[a][b] = true }
                }
            }
            description = "ring \(shuffled.map { $0 + 1 })"
        }
        partitions += 1
        partitionEndsAt = now + random.int(10...150)
        rebuildCuts()
        log("partition \(description) until \(partitionEndsAt!)")
    }

    /// FoundationDB's swizzle-clog: clog every link of a random subset one by one, then unclog in random order.
    func startSwizzle() {
        let ids = members.map { Int($0.id) - 1 }
        guard ids.count >= 2 else { return }
        let subset = Array(random.shuffled(ids).prefix(random.int(1...ids.count)))
        var links: [(Int, Int)] = []
        for a in subset { for b in ids where b != a { links.append((a, b)); links.append((b, a)) } }
        links = random.shuffled(links)
        var at = now
        for (a, b) in links {
            at += random.int(0...3)
            clogSchedule.append((at, a, b, true))
        }
        at += random.int(5...60)
        for (a, b) in random.shuffled(links) {
            at += random.int(0...3)
            clogSchedule.append((at, a, b, false))
        }
        log("swizzle-clog \(subset.map { $0 + 1 })")
    }

    func changeMembership() {
        guard let leader = currentLeader() else { return }
        let conf = leader.raft!.confState
        let spare = nodes.first { $0.status == .spare }
        var change: ConfChange?
        if let learner = conf.learners.first {
            change = .promoteLearner(learner)
        } else if let spare, conf.voters.count < options.voters + 1, random.chance(0.6) {
            change = .addLearner(spare.id)
        } else if conf.voters.count > 3 || (conf.voters.count == 3 && spare != nil && random.chance(0.3)) {
            let removable = conf.voters.filter { $0 != leader.id }
            if !removable.isEmpty { change = .removeNode(random.pick(removable)) }
        }
        guard let change else { return }
        do {
            try leader.raft!.proposeConfChange(change)
        } catch {
            log("conf change \(change) refused: \(error)")
            return
        }
        membershipChanges += 1
        log("conf change \(change) proposed at \(leader.id)")
        if case .addLearner(let id) = change, node(id).status == .spare {
            do { try start(node(id)) } catch {}
        }
    }

    // MARK: Liveness

    func liveness() throws {
        inLiveness = true
        partitionEndsAt = nil
        clogSchedule = []
        scheduledCrashes = []
        for i in partitionCut.indices {
            for j in partitionCut[i].indices {
                partitionCut[i][j] = false
                clogCut[i][j] = false
            }
        }
        rebuildCuts()
        network.dropProbability = 0
        network.duplicateProbability = 0
        network.delayTicksMax = min(network.delayTicksMax, 2)
        for node in nodes {
            if case .down = node.status { try start(node) }
        }
        log("liveness phase: network healed, every node up")
        // Bounded: converge within `livenessTicksMax` ticks without progress; a follower still catching up
        // (its applied index rising) extends the window, up to ten times over.
        let start = now
        var deadline = now + options.livenessTicksMax
        var appliedSum = nodes.reduce(UInt64(0)) { $0 + $1.applied }
        while now < deadline && now < start + 10 * options.livenessTicksMax {
            now += 1
            try step()
            if converged() {
                log("converged")
                return
            }
            let sum = nodes.reduce(UInt64(0)) { $0 + $1.applied }
            if sum > appliedSum && okWritesInLiveness > 0 {
                appliedSum = sum
                deadline = max(deadline, now + 4 * options.electionTimeoutTicks)
            }
        }
        let leader = currentLeader().map { "leader \($0.id) term \($0.raft!.term) commit \($0.raft!.commitIndex)" } ?? "no leader"
        var states: [String] = []
        for node in nodes where node.isUp {
            let raft = node.raft!
            states.append("\(node.id):\(raft.role)/t\(raft.term)/c\(raft.commitIndex)/a\(node.applied)/l\(raft.lastIndex)")
        }
        throw SimFailure(message: "liveness: no convergence within \(now - start) ticks of healing (\(leader); \(states.joined(separator: " ")))")
    }

    func converged() -> Bool {
        guard okWritesInLiveness > 0, let leader = currentLeader() else { return false }
        let raft = leader.raft!
        guard raft.term(at: raft.commitIndex) == raft.term else { return false }
        for member in raft.confState.members {
            let node = node(member)
            guard node.isUp, node.raft!.commitIndex == raft.commitIndex, node.applied == raft.commitIndex else {
                return false
            }
        }
        return true
    }
}
