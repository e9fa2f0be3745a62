@testable import RaftKit

/// A Raft group over `MemoryLogStorage` and an in-memory FIFO network that tests drive by hand: tick,
/// deliver, cut links, crash and restart. Everything a `Ready` asks for is performed at once (persist, send,
/// apply), so the storage always holds what the node has acknowledged.
struct TestCluster {
    struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    var ids: [NodeID]
    var nodes: [NodeID: RaftNode] = [:]
    var storages: [NodeID: MemoryLogStorage] = [:]
    var configs: [NodeID: Config] = [:]
    var queue: [Message] = []
    var down: Set<NodeID> = []
    var cut: Set<Link> = []
    /// Drops a message when it returns true (in addition to cuts and down nodes).
    var dropRule: ((Message) -> Bool)?
    /// Messages sent, by kind name.
    var sent: [String: Int] = [:]
    /// Every message sent, in order (for assertions on contents).
    var sentLog: [Message] = []
    /// Application data applied per node, in order (snapshots record their index as a marker).
    var applied: [NodeID: [Entry]] = [:]
    var readStates: [NodeID: [ReadState]] = [:]

    init(voters: Int, learners: [NodeID] = [], configure: (inout Config) -> Void = { _ in }) {
        ids = (1...NodeID(voters)).map { $0 }
        let conf = ConfState(voters: ids, learners: learners)
        for id in ids + learners {
            var config = Config(id: id, randomSeed: 1000 + id)
            config.electionTimeoutTicks = 10
            config.heartbeatIntervalTicks = 1
            configure(&config)
            configs[id] = config
            storages[id] = MemoryLogStorage(confState: conf)
            nodes[id] = try! RaftNode(config: config, storage: storages[id]!)
            applied[id] = []
        }
        ids += learners
    }

    /// Adds a node with empty storage (a future member that learns the membership from the log).
    mutating func addBlankNode(_ id: NodeID) {
        var config = Config(id: id, randomSeed: 1000 + id)
        config.electionTimeoutTicks = 10
        config.heartbeatIntervalTicks = 1
        configs[id] = config
        storages[id] = MemoryLogStorage()
        nodes[id] = try! RaftNode(config: config, storage: storages[id]!)
        applied[id] = []
        ids.append(id)
    }

    subscript(_ id: NodeID) -> RaftNode {
        get { nodes[id]! }
        set { nodes[id] = newValue }
    }

    /// Performs every pending `Ready` of node `id`.
    mutating func processReady(_ id: NodeID) {
        guard !down.contains(id) else { return }
        while let ready = nodes[id]!.ready() {
            let storage = storages[id]!
            if let snapshot = ready.snapshot {
                storage.applySnapshot(snapshot)
                applied[id] = [Entry(term: snapshot.metadata.term, index: snapshot.metadata.index, data: [0xFF])]
            }
            storage.append(ready.entries)
            if let hard = ready.hardState { storage.setHardState(hard) }
            for message in ready.messages {
                sent[message.kind.name, default: 0] += 1
                sentLog.append(message)
                queue.append(message)
            }
            applied[id]!.append(contentsOf: ready.committedEntries)
            readStates[id, default: []].append(contentsOf: ready.readStates)
            nodes[id]!.advance(ready)
        }
    }

    mutating func processAllReady() {
        for id in ids.sorted() { processReady(id) }
    }

    /// Delivers queued messages (and the messages they cause) until the network is quiet, at most `limit`.
    @discardableResult
    mutating func stabilize(limit: Int = 100_000) -> Int {
        var delivered = 0
        processAllReady()
        while !queue.isEmpty && delivered < limit {
            let batch = queue
            queue = []
            for message in batch {
                if nodes[message.to] == nil || down.contains(message.to) || down.contains(message.from) { continue }
                if cut.contains(Link(from: message.from, to: message.to)) { continue }
                if let dropRule, dropRule(message) { continue }
                try! nodes[message.to]!.step(message)
                delivered += 1
            }
            processAllReady()
        }
        return delivered
    }

    mutating func tick(_ id: NodeID, times: Int = 1) {
        for _ in 0..<times where !down.contains(id) { nodes[id]!.tick() }
    }

    /// Ticks every live node once, then stabilizes.
    mutating func tickAll(times: Int = 1) {
        for _ in 0..<times {
            for id in ids.sorted() where !down.contains(id) { nodes[id]!.tick() }
            stabilize()
        }
    }

    /// Makes `id` campaign at once, as a leadership transfer does (no pre-vote, leases ignored), and
    /// stabilizes; retries twice if it lost only because its term was behind.
    mutating func elect(_ id: NodeID) {
        for _ in 0..<3 {
            nodes[id]!.startCampaign(.transfer)
            stabilize()
            if nodes[id]!.role == .leader { return }
        }
    }

    var leaders: [NodeID] { ids.sorted().filter { !down.contains($0) && nodes[$0]!.role == .leader } }

    /// The leader with the highest term among live nodes.
    var leader: NodeID? { leaders.max { nodes[$0]!.term < nodes[$1]!.term } }

    mutating func isolate(_ id: NodeID) {
        for other in ids where other != id {
            cut.insert(Link(from: id, to: other))
            cut.insert(Link(from: other, to: id))
        }
    }

    mutating func partition(_ a: [NodeID], _ b: [NodeID]) {
        for x in a { for y in b { cut.insert(Link(from: x, to: y)); cut.insert(Link(from: y, to: x)) } }
    }

    mutating func heal() { cut = [] }

    /// Stops `id` (its volatile state is gone; storage keeps everything it persisted).
    mutating func crash(_ id: NodeID) {
        down.insert(id)
        queue.removeAll { $0.to == id || $0.from == id }
    }

    /// Restarts `id` from its storage.
    mutating func restart(_ id: NodeID) {
        down.remove(id)
        var config = configs[id]!
        config.applied = 0
        nodes[id] = try! RaftNode(config: config, storage: storages[id]!)
        applied[id] = []
    }

    mutating func propose(_ id: NodeID, _ text: String) throws(ProposeError) {
        try nodes[id]!.propose(Array(text.utf8))
    }

    /// The application commands applied on `id`, as strings (no-ops and membership changes left out).
    func appliedCommands(_ id: NodeID) -> [String] {
        applied[id]!.filter { $0.kind == .normal && !$0.data.isEmpty && $0.data != [0xFF] }
            .map { String(decoding: $0.data, as: UTF8.self) }
    }

    mutating func resetCounts() {
        sent = [:]
        sentLog = []
    }
}
