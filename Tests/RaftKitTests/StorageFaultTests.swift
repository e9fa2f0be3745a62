import Testing

@testable import RaftKit

/// A `LogStorage` over `MemoryLogStorage` whose `term(at:)` fails for indexes ≥ `brokenFrom` with `error`.
final class FailingTermStorage: LogStorage {
    let inner: MemoryLogStorage
    let brokenFrom: UInt64
    let error: LogStorageError

    init(inner: MemoryLogStorage, brokenFrom: UInt64, error: LogStorageError) {
        self.inner = inner
        self.brokenFrom = brokenFrom
        self.error = error
    }

    func initialState() throws(LogStorageError) -> (hardState: HardState, confState: ConfState) { try inner.initialState() }
    func entries(from lo: UInt64, to hi: UInt64, bytesMax: Int) throws(LogStorageError) -> [Entry] {
        try inner.entries(from: lo, to: hi, bytesMax: bytesMax)
    }
    func term(at index: UInt64) throws(LogStorageError) -> UInt64 {
        if index >= brokenFrom { throw error }
        return try inner.term(at: index)
    }
    func firstIndex() -> UInt64 { inner.firstIndex() }
    func lastIndex() -> UInt64 { inner.lastIndex() }
    func snapshot() throws(LogStorageError) -> Snapshot { try inner.snapshot() }
}

/// How the core treats storage read failures: the expected misses are Raft traffic, an I/O error is fatal.
@Suite struct StorageFaultTests {
    /// A follower (id 2 of 3) whose stored log holds entries 1...3 of term 1, over storage failing with `error`.
    static func follower(failing error: LogStorageError) -> RaftNode {
        let memory = MemoryLogStorage(confState: ConfState(voters: [1, 2, 3]))
        memory.append((1...3).map { Entry(term: 1, index: $0, data: [UInt8($0)]) })
        memory.setHardState(HardState(term: 1, vote: 0, commit: 0))
        let storage = FailingTermStorage(inner: memory, brokenFrom: 2, error: error)
        return try! RaftNode(config: Config(id: 2, randomSeed: 5), storage: storage)
    }

    static func appendAt2() -> Message {
        Message(from: 1, to: 2, term: 1, kind: .append(prevIndex: 2, prevTerm: 1, entries: [], commit: 0))
    }

    // Goal: a term that cannot be read because the log is compacted or short is an ordinary mismatch: the
    // follower rejects the append and keeps running (the control case for the exit test below).
    @Test func compactedTermIsAMismatch() throws {
        var node = Self.follower(failing: .unavailable)
        try node.step(Self.appendAt2())
        let next = node.ready()
        let ready = try #require(next)
        let rejected = ready.messages.contains { message in
            if case .appendRejected = message.kind { return true }
            return false
        }
        #expect(rejected)
    }

    #if DEBUG
    // Goal: a storage I/O error while checking a term stops the process instead of being read as "no match"
    // (which would send a rejection, and on a leader a snapshot, over a broken disk). Method: an exit test.
    @Test func ioErrorReadingATermIsFatal() async {
        await #expect(processExitsWith: .failure) {
            var node = StorageFaultTests.follower(failing: .io("disk gone"))
            try? node.step(StorageFaultTests.appendAt2())
        }
    }
    #endif
}
