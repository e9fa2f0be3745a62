// silo-microbench: timings that used to run (and only print) inside the test suites. Not shipped.
//
//   swift build -c release --product silo-microbench && .build/release/silo-microbench [blob|crc|all]
//
// `blob`: 4 KiB writes per second with group commit and with one fsync per write (64 writers), 1 MiB
// writes (16 writers), and the open of the written volumes with and without a full check.
// `crc`: CRC32C, CRC64NVME and CRC32 throughput over a 64 MiB buffer.
// `meta`: putObject commands per second on the embedded metadata service, one at a time (a transaction and
// an fsync each) and from 64 concurrent callers (group-committed).
import BlobNode
import Foundation
import Logging
import MetaQuorum
import NIOCore
import RaftKit
import S3Protocol

/// Seeded benchmark data (RaftKit's SplitMix64), so runs are repeatable.
func randomBytes(seed: UInt64, count: Int) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func temporaryDirectory() -> String {
    var template = Array((NSTemporaryDirectory() + "/silo-microbench-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func storeOptions(volumeSizeBytes: UInt64) -> LocalChunkStore.Options {
    var options = LocalChunkStore.Options()
    options.volumeSizeBytesMax = volumeSizeBytes
    options.logger = Logger(label: "microbench", factory: { _ in SwiftLogNoOpLogHandler() })
    return options
}

/// Writes `count` chunks of `payload` with `writers` tasks in flight; returns the elapsed time.
func writeConcurrently(_ store: LocalChunkStore, payload: ByteBuffer, count: Int, writers: Int) async throws -> Duration {
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for id in stride(from: writer, to: count, by: writers) {
                    try await store.write(UInt128(id + 1), payload)
                }
            }
        }
        try await group.waitForAll()
    }
    return ContinuousClock.now - start
}

func blobBenchmark() async throws {
    let groupCommitBatch = LocalChunkStore.Options().writeBatchRecordsMax
    for batch in [groupCommitBatch, 1] {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = storeOptions(volumeSizeBytes: 1 << 30)
        options.writeBatchRecordsMax = batch
        let store = try await LocalChunkStore.open(directory: directory, options: options)
        let count = batch == 1 ? 500 : 2000  // keep the slow mode short
        let elapsed = try await writeConcurrently(
            store, payload: ByteBuffer(bytes: randomBytes(seed: 1, count: 4096)), count: count, writers: 64)
        print("blob 4KiB writes, batch max \(batch): \(Int(Double(count) / seconds(elapsed))) writes/s, "
            + "\(store.stats().fsyncCount) fsyncs for \(count) writes")
        await store.close()
        if batch == 1 { continue }

        var largeOptions = options
        largeOptions.volumeSizeBytesMax = 8 << 20
        let largeDirectory = directory + "-large"
        defer { try? FileManager.default.removeItem(atPath: largeDirectory) }
        let large = try await LocalChunkStore.open(directory: largeDirectory, options: largeOptions)
        let largeElapsed = try await writeConcurrently(
            large, payload: ByteBuffer(bytes: randomBytes(seed: 2, count: 1 << 20)), count: 128, writers: 16)
        print("blob 1MiB writes: \(Int(128 / seconds(largeElapsed))) MiB/s, \(large.stats().fsyncCount) fsyncs for 128 writes")
        await large.close()
        // Reopening 128 MiB in 8 MiB volumes: header-only scan of sealed volumes against a full check.
        for verify in [false, true] {
            var reopenOptions = largeOptions
            reopenOptions.verifySealedVolumesOnOpen = verify
            let start = ContinuousClock.now
            let reopened = try await LocalChunkStore.open(directory: largeDirectory, options: reopenOptions)
            print("blob open 128 MiB, verify sealed \(verify): \(Int(seconds(ContinuousClock.now - start) * 1000)) ms")
            await reopened.close()
        }
        // The start-up scan: reopen and read every record (CRC-checked) back into the index.
        let start = ContinuousClock.now
        let reopened = try await LocalChunkStore.open(directory: directory, options: options)
        let megabytes = Double(reopened.stats().livePayloadBytes) / 1_048_576
        print("blob open: \(count) records (\(Int(megabytes)) MiB) indexed in \(Int(seconds(ContinuousClock.now - start) * 1000)) ms")
        await reopened.close()
    }
}

func crcBenchmark() {
    let size = 64 << 20, rounds = 4
    let data = randomBytes(seed: 1, count: size)
    for algorithm in [ChecksumAlgorithm.crc32c, .crc64nvme, .crc32] {
        var hasher = ChecksumHasher(algorithm)
        let elapsed = ContinuousClock().measure {
            for _ in 0..<rounds { hasher.update(data) }
        }
        let mebibytesPerSecond = Double(size * rounds) / 1_048_576.0 / max(seconds(elapsed), 0.000_000_001)
        print("checksum throughput \(algorithm.rawValue): \(Int(mebibytesPerSecond)) MiB/s (\(hasher.finalize().base64))")
    }
}

func metaBenchmark() async throws {
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let logger = Logger(label: "microbench", factory: { _ in SwiftLogNoOpLogHandler() })
    let service = try await EmbeddedMetadataService(directory: directory, logger: logger, freeSpaceFloorBytes: 0,
                                                    clock: { Int64(Date().timeIntervalSince1970 * 1000) })
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    try await service.createBucket(name: "b", owner: "bench", time: now, commandID: "create")
    func record(_ key: String, _ id: Int) -> ObjectRecord {
        ObjectRecord(bucket: "b", key: key, versionID: nullVersionID, sizeBytes: 1, etag: "0123456789abcdef0123456789abcdef",
                     lastModifiedTime: now, headers: [], userMetadata: [], checksum: nil,
                     chunks: [ChunkRef(id: ChunkID(id), sizeBytes: 1, nodes: [1])], partSizes: [])
    }
    let count = 400, concurrentCount = 4000, concurrency = 64
    let sequential = try await ContinuousClock().measure {
        for index in 0..<count {
            try await service.putObject(record("seq-\(index)", index + 1), requester: "bench", access: nil,
                                        precondition: .none, startedTime: now, commandID: "seq-\(index)")
        }
    }
    let concurrent = try await ContinuousClock().measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in stride(from: worker, to: concurrentCount, by: concurrency) {
                        try await service.putObject(record("par-\(index)", 100_000 + index), requester: "bench", access: nil,
                                                    precondition: .none, startedTime: now, commandID: "par-\(index)")
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    await service.close()
    print("meta putObject: sequential \(Int(Double(count) / seconds(sequential)))/s, "
          + "\(concurrency) concurrent callers \(Int(Double(concurrentCount) / seconds(concurrent)))/s")
}

let which = CommandLine.arguments.dropFirst().first ?? "all"
guard ["blob", "crc", "meta", "all"].contains(which) else {
    print("usage: silo-microbench [blob|crc|meta|all]")
    exit(2)
}
if which == "crc" || which == "all" { crcBenchmark() }
if which == "meta" || which == "all" { try await metaBenchmark() }
if which == "blob" || which == "all" { try await blobBenchmark() }
