import Foundation
import Testing

@testable import RaftKit

@Suite struct StorageWALTests {
    @Test func limitsAreConsistent() {
        StorageLimits.validate()
    }

    // Goal: the codec detects any single flipped bit. Method: encode one record, flip each bit in turn, decode.
    @Test func codecDetectsEveryBitflip() {
        var bytes: [UInt8] = []
        WALRecordCodec.encode(.entry(index: 7, payload: payload(7, bytes: 9)), into: &bytes)
        #expect(WALRecordCodec.decode(bytes, at: 0) == .record(.entry(index: 7, payload: payload(7, bytes: 9)), nextOffset: bytes.count))
        for bit in 0..<(bytes.count * 8) {
            var damaged = bytes
            damaged[bit / 8] ^= UInt8(1 << (bit % 8))
            if case .record = WALRecordCodec.decode(damaged, at: 0) {
                Issue.record("bit \(bit) flipped without detection")
            }
        }
    }

    // Goal: what `append` acknowledged comes back after a restart. Method: append entries, hard states and a
    // conflicting suffix over several appends, close, reopen, compare.
    @Test func restartRecoversEntriesHardStateAndConflicts() async throws {
        let directory = TemporaryDirectory("wal-restart")
        defer { directory.remove() }
        let (wal, first) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        #expect(first == WALRecovery())
        try await wal.append([.hardState([1]), .entry(index: 1, payload: payload(1)), .entry(index: 2, payload: payload(2))])
        try await wal.append((3...10).map { .entry(index: $0, payload: payload($0)) })
        try await wal.append([.hardState([2]), .entry(index: 6, payload: [66])])  // conflict: replaces 6...10
        try await wal.append([.truncateSuffix(fromIndex: 6), .entry(index: 6, payload: [67]), .entry(index: 7, payload: [77])])
        await wal.close()

        let (reopened, recovery) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        #expect(recovery.hardState == [2])
        #expect(recovery.compactedThroughIndex == 0)
        #expect(recovery.entries.map(\.index) == Array(1...7))
        #expect(recovery.entries[5].payload == [67])
        #expect(recovery.entries[4].payload == payload(5))
        #expect(recovery.tornBytesTruncated == 0)
        // The log keeps working after recovery.
        try await reopened.append([.entry(index: 8, payload: [88])])
        await reopened.close()
        let (_, again) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        #expect(again.entries.map(\.index) == Array(1...8))
    }

    // Goal: a torn last record is truncated, never reported as corruption, and loses nothing acknowledged before
    // it. Method: write 5 entries (one fsync each), then for every byte offset inside the last record cut the file
    // there, reopen, and check entries 1...4 survive; then append again and reopen.
    @Test func tornTailAtEveryOffsetOfTheLastRecord() async throws {
        let directory = TemporaryDirectory("wal-torn")
        defer { directory.remove() }
        let (wal, _) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        for index in UInt64(1)...5 { try await wal.append([.entry(index: index, payload: payload(index))]) }
        await wal.close()
        let segment = try #require(directory.files(withSuffix: ".wal").first)
        let original = readFile(segment)
        let lastStart = original.count - (WALRecordCodec.headerBytes + 32)
        for cut in lastStart..<original.count {
            writeFile(segment, Array(original[0..<cut]))
            let (reopened, recovery) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
            #expect(recovery.entries.map(\.index) == [1, 2, 3, 4], "cut at \(cut)")
            #expect(recovery.tornBytesTruncated == cut - lastStart, "cut at \(cut)")
            try await reopened.append([.entry(index: 5, payload: [5])])
            await reopened.close()
            let (_, after) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
            #expect(after.entries.map(\.index) == [1, 2, 3, 4, 5], "cut at \(cut)")
            #expect(after.tornBytesTruncated == 0)
        }
    }

    // Goal: a tail extended by zeros (size persisted, data not) and a damaged last record count as torn.
    @Test func zeroFilledTailIsTorn() async throws {
        let directory = TemporaryDirectory("wal-zeros")
        defer { directory.remove() }
        let (wal, _) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        for index in UInt64(1)...3 { try await wal.append([.entry(index: index, payload: payload(index))]) }
        await wal.close()
        let segment = try #require(directory.files(withSuffix: ".wal").first)
        let original = readFile(segment)
        writeFile(segment, original + [UInt8](repeating: 0, count: 4096))
        let (_, recovery) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        #expect(recovery.entries.map(\.index) == [1, 2, 3])
        #expect(recovery.tornBytesTruncated == 4096)
    }

    // Goal: damage to an acknowledged record that intact records follow is reported, never silently dropped or
    // applied. Method: flip one bit at every byte of the first and of a middle record (in the tail segment), and
    // every byte of a record in an older segment; each open must throw `corruptRecord`.
    @Test func bitflipInAnOldRecordIsReported() async throws {
        let directory = TemporaryDirectory("wal-bitflip")
        defer { directory.remove() }
        let (wal, _) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        for index in UInt64(1)...4 { try await wal.append([.entry(index: index, payload: payload(index))]) }
        await wal.close()
        let segment = try #require(directory.files(withSuffix: ".wal").first)
        let original = readFile(segment)
        let recordBytes = WALRecordCodec.headerBytes + 32
        for offset in Array(0..<recordBytes) + Array(recordBytes * 2..<(recordBytes * 3)) {
            var damaged = original
            damaged[offset] ^= 0x10
            writeFile(segment, damaged)
            await expectCorruption(directory.path, "flip at \(offset)")
        }
        writeFile(segment, original)
        let (_, recovery) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 20)
        #expect(recovery.entries.count == 4)
    }

    @Test func bitflipInAnOlderSegmentIsReported() async throws {
        let directory = TemporaryDirectory("wal-bitflip-segment")
        defer { directory.remove() }
        let (wal, _) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 200)
        for index in UInt64(1)...20 { try await wal.append([.entry(index: index, payload: payload(index))]) }
        await wal.close()
        let segments = directory.files(withSuffix: ".wal")
        #expect(segments.count > 2)
        let original = readFile(segments[0])
        // Even the last record of an older segment is not a torn tail: later segments exist.
        for offset in [original.count - 1, original.count - 40, 0, 5] {
            var damaged = original
            damaged[offset] ^= 0x01
            writeFile(segments[0], damaged)
            await expectCorruption(directory.path, "flip at \(offset) of the first segment")
        }
        writeFile(segments[0], Array(original.dropLast(3)))
        await expectCorruption(directory.path, "older segment cut short")
    }

    private func expectCorruption(_ path: String, _ comment: Comment) async {
        do {
            _ = try await SegmentedWAL.open(directory: path, segmentSizeBytes: 1 << 20)
            Issue.record("open succeeded: \(comment)")
        } catch {
            guard case .corruptRecord = error else {
                Issue.record("expected corruptRecord, got \(error): \(comment)")
                return
            }
        }
    }

    // Goal: rotation at the size limit and compaction keep the log and hard state intact and delete old segments.
    // Method: 512-byte segments, 100 entries, a hard state written only at the start, compact through 80, reopen.
    @Test func rotationAndCompaction() async throws {
        let directory = TemporaryDirectory("wal-compact")
        defer { directory.remove() }
        let (wal, _) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 512)
        try await wal.append([.hardState([9, 9])])
        for index in UInt64(1)...100 { try await wal.append([.entry(index: index, payload: payload(index))]) }
        let before = directory.files(withSuffix: ".wal").count
        #expect(before > 5)
        try await wal.append([.compact(throughIndex: 80, payload: [8, 0])])
        let statistics = wal.statistics
        #expect(statistics.segmentsDeleted > 0)
        #expect(directory.files(withSuffix: ".wal").count == before - statistics.segmentsDeleted + (statistics.segmentsCreated - before))
        await wal.close()
        let (reopened, recovery) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 512)
        #expect(recovery.hardState == [9, 9])
        #expect(recovery.compactedThroughIndex == 80)
        #expect(recovery.compactPayload == [8, 0])
        #expect(recovery.entries.map(\.index) == Array(81...100))
        #expect(recovery.entries.last?.payload == payload(100))
        // A snapshot beyond the log's end empties it; the next entry follows the snapshot.
        try await reopened.append([.compact(throughIndex: 500, payload: [5]), .entry(index: 501, payload: [1])])
        await reopened.close()
        let (_, after) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 512)
        #expect(after.compactedThroughIndex == 500)
        #expect(after.entries.map(\.index) == [501])
    }

    // Goal: under concurrent appends every acknowledged record is on disk exactly once, in each caller's order,
    // and appends share fsyncs. Method: 32 tasks append 40 hard-state records each (a record kind whose order
    // the WAL does not check), then the segment is decoded directly.
    @Test func groupCommitUnderConcurrentAppends() async throws {
        let directory = TemporaryDirectory("wal-group")
        defer { directory.remove() }
        let (wal, _) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 1 << 26)
        let tasks = 32
        let perTask = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for sequence in 0..<perTask {
                        try await wal.append([.hardState([UInt8(task), UInt8(sequence)] + [UInt8](repeating: 7, count: 254))])
                    }
                }
            }
            try await group.waitForAll()
        }
        let statistics = wal.statistics
        await wal.close()
        #expect(statistics.appendCount == tasks * perTask)
        #expect(statistics.syncCount <= statistics.appendCount)
        print("wal group commit: \(statistics.appendCount) appends, \(statistics.syncCount) fsyncs")
        let records = directory.files(withSuffix: ".wal").flatMap { decodeAll(readFile($0)) }
        #expect(records.count == tasks * perTask)
        var next = [Int](repeating: 0, count: tasks)
        for record in records {
            guard case .hardState(let bytes) = record else {
                Issue.record("unexpected \(record)")
                continue
            }
            #expect(Int(bytes[1]) == next[Int(bytes[0])], "task \(bytes[0]) out of order")
            next[Int(bytes[0])] += 1
        }
        #expect(next == [Int](repeating: perTask, count: tasks))
    }

    // Goal: an I/O-free check of replay rules. Method: feed records to `WALReplay` and compare.
    @Test func replayRejectsGapsAndEntriesBelowCompaction() {
        var replay = WALReplay()
        #expect(replay.apply(.entry(index: 1, payload: [])) == nil)
        #expect(replay.apply(.entry(index: 3, payload: [])) != nil)
        var compacted = WALReplay()
        #expect(compacted.apply(.compact(throughIndex: 10, payload: [])) == nil)
        #expect(compacted.apply(.entry(index: 10, payload: [])) != nil)
        var gapAtStart = WALReplay()
        #expect(gapAtStart.apply(.entry(index: 5, payload: [])) == nil)
        #expect(gapAtStart.finish() != nil)
    }
}

@Suite struct StorageWALUnsyncedTests {
    // Goal: `sync: false` appends are written in order with synced ones, survive a clean close, and are made
    // durable before a rotation. Method: mix synced and unsynced appends over small segments, count fsyncs, reopen.
    @Test func unsyncedAppendsKeepOrderAndSurviveRotation() async throws {
        let directory = TemporaryDirectory("wal-unsynced")
        defer { directory.remove() }
        let (wal, _) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 300)
        for index in UInt64(1)...20 {
            try await wal.append([.entry(index: index, payload: payload(index))], sync: true)
            try await wal.append([.hardState([UInt8(index)])], sync: false)
        }
        let statistics = wal.statistics
        #expect(statistics.appendCount == 40)
        #expect(statistics.syncCount == 20)
        await wal.close()
        let (_, recovery) = try await SegmentedWAL.open(directory: directory.path, segmentSizeBytes: 300)
        #expect(recovery.entries.map(\.index) == Array(1...20))
        #expect(recovery.hardState == [20])
    }
}
