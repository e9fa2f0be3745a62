/// The outcome of searching one partition.
struct SearchOutcome: Sendable {
    enum Kind: Sendable, Equatable {
        case ok
        case illegal
        /// Another partition asked every search to stop.
        case cancelled
        /// The deadline passed or the cache reached its bound.
        case exhausted(reason: String)
    }

    var kind: Kind
    /// The longest partial linearization seen (indices into the partition's operations, in order).
    var longest: [Int]
    /// The operation that could not be placed after `longest` (the op whose return ended the scan).
    var unplaceable: Int?
    /// The model state after `longest`, described.
    var stateAfterLongest: String
    /// Distinct configurations cached (a measure of the search's work).
    var configurations = 0
    var elapsed: Duration = .zero
}

/// Wing & Gong's search as improved by Lowe, with the (linearized set, state) cache: JEPSEN-SPEC §2.2,
/// Porcupine's `checkSingle`.
///
/// Data layout, for speed: the entry list is a doubly linked list in arrays (`next`, `prev`: node indices,
/// node 0 is the sentinel head, -1 is the end); the linearized set is a bitset of `UInt64` words whose hash
/// is kept up to date in O(1) per change (an XOR of one random 64-bit word per operation, so equal sets
/// always hash equal); the cache is an open-addressing table keyed by `setHash ^ stateHash` whose buckets
/// chain entries that are compared word by word and with `==` on the state.
struct WGLSearch<M: Model>: Sendable {
    let model: M
    let inputs: [M.Input]
    let outputs: [M.Output]
    let deadline: ContinuousClock.Instant?
    let cancellation: CancellationFlag?

    // The entry list. Nodes 1...2n; a call node's `match` is its return node, a return node's is -1.
    private var next: [Int32]
    private var prev: [Int32]
    private var match: [Int32]
    private var operationOfNode: [Int32]

    // The linearized set.
    private var words: [UInt64]
    private var setHash: UInt64 = 0
    private let operationHash: [UInt64]
    /// Per word, the bits of operations whose return time is +∞, when the model promises they are always
    /// legal (`Model.infiniteOperationsAlwaysLegal`); all zero otherwise. Once only such operations are
    /// left, the search stops with success instead of linearizing them one by one.
    private let infiniteMask: [UInt64]
    private let infiniteAlwaysLegal: Bool

    // The cache: entries in flat arrays, found through `table`.
    private var cacheWords: [UInt64] = []
    private var cacheStates: [M.State] = []
    private var cacheChain: [Int32] = []
    private var table: OpenAddressingIndex

    init(
        model: M, operations: [Operation<M.Input, M.Output>], deadline: ContinuousClock.Instant?,
        cancellation: CancellationFlag?
    ) {
        self.model = model
        self.deadline = deadline
        self.cancellation = cancellation
        inputs = operations.map(\.input)
        outputs = operations.map(\.output)
        let n = operations.count
        precondition(n < Int(Int32.max) / 2, "partition too large for 32-bit node indices: \(n) operations")

        // Entries sorted by time; at equal times calls come first (closed intervals), then by operation.
        var entries: [(time: Int64, isReturn: Bool, operation: Int32)] = []
        entries.reserveCapacity(2 * n)
        for (i, op) in operations.enumerated() {
            entries.append((op.callTime, false, Int32(i)))
            entries.append((op.returnTime, true, Int32(i)))
        }
        entries.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.isReturn != b.isReturn { return !a.isReturn }
            return a.operation < b.operation
        }
        let nodeCount = 2 * n + 1
        next = Array(repeating: -1, count: nodeCount)
        prev = Array(repeating: -1, count: nodeCount)
        match = Array(repeating: -1, count: nodeCount)
        operationOfNode = Array(repeating: -1, count: nodeCount)
        var callNode = Array(repeating: Int32(-1), count: n)
        for (position, entry) in entries.enumerated() {
            let node = Int32(position + 1)
            operationOfNode[Int(node)] = entry.operation
            prev[Int(node)] = node - 1
            next[Int(node) - 1] = node
            if entry.isReturn {
                let call = callNode[Int(entry.operation)]
                precondition(call >= 0, "return before call for operation \(entry.operation)")
                match[Int(call)] = node
            } else {
                callNode[Int(entry.operation)] = node
            }
        }
        words = Array(repeating: 0, count: (n + 63) / 64)
        var seed: UInt64 = 0x5110_C4EC_0000_0001
        infiniteAlwaysLegal = model.infiniteOperationsAlwaysLegal
        var mask = Array(repeating: UInt64(0), count: (n + 63) / 64)
        var hashes: [UInt64] = []
        hashes.reserveCapacity(n)
        for (i, op) in operations.enumerated() {
            let h = splitMix64(&seed)
            if infiniteAlwaysLegal && op.returnTime == Operation<M.Input, M.Output>.returnTimeInfinity {
                mask[i >> 6] |= 1 << UInt64(i & 63)
            }
            hashes.append(h)
        }
        infiniteMask = mask
        operationHash = hashes
        table = OpenAddressingIndex()
    }

    private var wordCount: Int { words.count }

    // The search's position, kept between slices so a partition can yield to the others.
    private var state: M.State?
    private var stack: [(node: Int32, state: M.State)] = []
    private var node: Int32 = 0
    private var longest: [Int] = []
    private var unplaceable: Int? = nil
    private var stateAfterLongest = ""
    private var started = false
    private var searchTime: Duration = .zero

    /// Searches for at most `iterations` steps. Returns nil if the search is not finished (call again to
    /// continue), or the outcome.
    mutating func run(iterations: Int) -> SearchOutcome? {
        let start = ContinuousClock.now
        let kind = search(iterations: iterations)
        searchTime += ContinuousClock.now - start
        guard let kind else { return nil }
        var outcome = SearchOutcome(
            kind: kind, longest: longest, unplaceable: unplaceable, stateAfterLongest: stateAfterLongest)
        outcome.configurations = cacheStates.count
        outcome.elapsed = searchTime
        return outcome
    }

    /// Runs the search to the end, the deadline, or cancellation.
    mutating func run() -> SearchOutcome {
        while true {
            if let outcome = run(iterations: Int.max) { return outcome }
        }
    }

    private mutating func search(iterations budget: Int) -> SearchOutcome.Kind? {
        if !started {
            started = true
            state = model.initialState()
            stateAfterLongest = model.describe(state: state!)
            node = next[0]
        }
        var state = self.state!
        defer { self.state = state }
        var iterations = 0
        let cacheEntriesMax = max(1, HistoryCheckerLimits.cacheWordsMax / max(1, wordCount))

        while next[0] != -1 {
            iterations += 1
            if iterations % HistoryCheckerLimits.iterationsPerDeadlineCheck == 0 {
                if let cancellation, cancellation.isCancelled { return .cancelled }
                if let deadline, ContinuousClock.now >= deadline { return .exhausted(reason: "the time budget ran out") }
                if cacheStates.count > cacheEntriesMax {
                    return .exhausted(reason: "the search cache reached \(cacheStates.count) configurations")
                }
                if iterations >= budget { return nil }
            }
            if match[Int(node)] >= 0 {
                // A call: try to linearize it next.
                let operation = Int(operationOfNode[Int(node)])
                let nextState = model.step(state, inputs[operation], outputs[operation])
                if nextState == nil && infiniteAlwaysLegal {
                    precondition(
                        !isInfinite(operation),
                        "the model promised infinite operations are always legal, but refused "
                            + model.describe(inputs[operation], outputs[operation]) + " in state "
                            + model.describe(state: state))
                }
                if let nextState {
                    setBit(operation)
                    if cacheInsertIfAbsent(nextState) {
                        stack.append((node, state))
                        state = nextState
                        lift(node)
                        node = next[0]
                    } else {
                        clearBit(operation)
                        node = next[Int(node)]
                    }
                } else {
                    node = next[Int(node)]
                }
            } else if infiniteAlwaysLegal && isInfinite(Int(operationOfNode[Int(node)])) {
                // The first remaining return is at +∞, so every finite operation is linearized and what is
                // left are always-legal operations: linearize them last, in list order.
                longest = stack.map { Int(operationOfNode[Int($0.node)]) }
                var rest = next[0]
                while rest != -1 {
                    if match[Int(rest)] >= 0 { longest.append(Int(operationOfNode[Int(rest)])) }
                    rest = next[Int(rest)]
                }
                unplaceable = nil
                return .ok
            } else {
                // A return: every call before it has been tried. Record the longest prefix, then backtrack.
                if stack.count > longest.count || unplaceable == nil {
                    longest = stack.map { Int(operationOfNode[Int($0.node)]) }
                    unplaceable = Int(operationOfNode[Int(node)])
                    stateAfterLongest = model.describe(state: state)
                }
                guard let top = stack.popLast() else { return .illegal }
                clearBit(Int(operationOfNode[Int(top.node)]))
                state = top.state
                unlift(top.node)
                node = next[Int(top.node)]
            }
        }
        longest = stack.map { Int(operationOfNode[Int($0.node)]) }
        unplaceable = nil
        stateAfterLongest = model.describe(state: state)
        return .ok
    }

    // MARK: The entry list

    /// Unlinks a call node and its return node.
    private mutating func lift(_ call: Int32) {
        let c = Int(call)
        next[Int(prev[c])] = next[c]
        prev[Int(next[c])] = prev[c]  // a call is always followed by its return, so next[c] != -1
        let r = Int(match[c])
        next[Int(prev[r])] = next[r]
        if next[r] != -1 { prev[Int(next[r])] = prev[r] }
    }

    /// Relinks what `lift` unlinked, in the reverse order.
    private mutating func unlift(_ call: Int32) {
        let c = Int(call)
        let r = Int(match[c])
        if next[r] != -1 { prev[Int(next[r])] = Int32(r) }
        next[Int(prev[r])] = Int32(r)
        prev[Int(next[c])] = call
        next[Int(prev[c])] = call
    }

    // MARK: The linearized set

    private func isInfinite(_ operation: Int) -> Bool {
        infiniteMask[operation >> 6] & (1 << UInt64(operation & 63)) != 0
    }

    private mutating func setBit(_ operation: Int) {
        words[operation >> 6] |= 1 << UInt64(operation & 63)
        setHash ^= operationHash[operation]
    }

    private mutating func clearBit(_ operation: Int) {
        words[operation >> 6] &= ~(1 << UInt64(operation & 63))
        setHash ^= operationHash[operation]
    }

    // MARK: The cache

    /// Adds (current set, `state`) to the cache. Returns false if an equal configuration was already there.
    private mutating func cacheInsertIfAbsent(_ state: M.State) -> Bool {
        let key = setHash ^ UInt64(bitPattern: Int64(state.hashValue))
        let head = table.head(for: key)
        var entry = head
        let count = wordCount
        while entry >= 0 {
            let base = Int(entry) * count
            var same = true
            var i = 0
            while i < count {  // an index loop, not a range: no generic iteration in debug builds
                if cacheWords[base + i] != words[i] {
                    same = false
                    break
                }
                i += 1
            }
            if same && cacheStates[Int(entry)] == state { return false }
            entry = cacheChain[Int(entry)]
        }
        let newEntry = Int32(cacheStates.count)
        cacheWords.append(contentsOf: words)
        cacheStates.append(state)
        cacheChain.append(head)
        table.setHead(newEntry, for: key)
        return true
    }
}

/// A hash table from 64-bit keys to the newest cache entry with that key (-1: none), with linear probing.
struct OpenAddressingIndex {
    private var keys: [UInt64]
    private var heads: [Int32]
    private var used = 0
    private var mask: Int

    init() {
        let capacity = 1 << 10
        keys = Array(repeating: 0, count: capacity)
        heads = Array(repeating: -1, count: capacity)
        mask = capacity - 1
    }

    private func slot(for key: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
        while heads[i] >= 0 && keys[i] != key { i = (i + 1) & mask }
        return i
    }

    func head(for key: UInt64) -> Int32 { heads[slot(for: key)] }

    mutating func setHead(_ entry: Int32, for key: UInt64) {
        precondition(entry >= 0, "cache entry index must be non-negative, got \(entry)")
        let i = slot(for: key)
        if heads[i] < 0 {
            keys[i] = key
            used += 1
        }
        heads[i] = entry
        if used * 2 > heads.count { grow() }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldHeads = heads
        let capacity = heads.count * 2
        keys = Array(repeating: 0, count: capacity)
        heads = Array(repeating: -1, count: capacity)
        mask = capacity - 1
        for i in 0..<oldHeads.count where oldHeads[i] >= 0 {
            let s = slot(for: oldKeys[i])
            keys[s] = oldKeys[i]
            heads[s] = oldHeads[i]
        }
    }
}

/// SplitMix64: a small deterministic generator for the per-operation hash words.
func splitMix64(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
