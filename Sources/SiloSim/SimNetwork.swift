import RaftKit

/// A message on the simulated wire.
struct InFlight {
    var deliverAt: Int
    var sequence: UInt64
    var message: Message

    func before(_ other: InFlight) -> Bool {
        deliverAt != other.deliverAt ? deliverAt < other.deliverAt : sequence < other.sequence
    }
}

/// The simulated network: per-message loss, duplication and delay (hence reordering), and per-link cuts.
/// Links are directed: `cut[from][to]` drops everything `from` sends to `to` (asymmetric partitions,
/// swizzle-clogging). A message is checked against the cuts when sent and again when delivered.
struct SimNetwork {
    var dropProbability = 0.0
    var duplicateProbability = 0.0
    var delayTicksMax = 1
    /// Indexed by slot (node id − 1).
    var cut: [[Bool]]
    private var heap: [InFlight] = []
    private var sequence: UInt64 = 0
    private(set) var sent = 0
    private(set) var delivered = 0

    init(slots: Int) { cut = Array(repeating: Array(repeating: false, count: slots), count: slots) }

    var inFlightCount: Int { heap.count }

    func isCut(_ from: NodeID, _ to: NodeID) -> Bool { cut[Int(from) - 1][Int(to) - 1] }

    mutating func healAll() {
        for i in cut.indices { for j in cut[i].indices { cut[i][j] = false } }
    }

    mutating func send(_ message: Message, now: Int, random: inout SimRandom) {
        sent += 1
        if isCut(message.from, message.to) || random.chance(dropProbability) { return }
        push(InFlight(deliverAt: now + random.int(1...delayTicksMax), sequence: nextSequence(), message: message))
        if random.chance(duplicateProbability) {
            push(InFlight(deliverAt: now + random.int(1...delayTicksMax), sequence: nextSequence(), message: message))
        }
    }

    /// The next message due at or before `now`, if any, skipping ones whose link is now cut.
    mutating func popDue(now: Int) -> Message? {
        while let top = heap.first, top.deliverAt <= now {
            let item = pop()
            if isCut(item.message.from, item.message.to) { continue }
            delivered += 1
            return item.message
        }
        return nil
    }

    /// Drops every message `from` still has in flight (its connections reset when it crashed).
    mutating func purge(from sender: NodeID) {
        let kept = heap.filter { $0.message.from != sender }
        heap = []
        for item in kept { push(item) }
    }

    private mutating func nextSequence() -> UInt64 {
        sequence += 1
        return sequence
    }

    private mutating func push(_ item: InFlight) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].before(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> InFlight {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].before(heap[smallest]) { smallest = left }
                if right < heap.count && heap[right].before(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
