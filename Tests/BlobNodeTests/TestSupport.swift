import Foundation
import Logging
import NIOCore
import Testing

@testable import BlobNode

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "/silo-blob-XXXXXX").utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        self.path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    func volumePaths() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: self.path)) ?? []
        return names.filter { $0.hasSuffix(".silo") }.sorted().map { self.path + "/" + $0 }
    }
}

/// Deterministic bytes for a chunk: `count` bytes derived from `seed`.
func chunkBytes(_ seed: UInt64, count: Int) -> ByteBuffer {
    var generator = SplitMix64(seed: seed)
    var buffer = ByteBufferAllocator().buffer(capacity: count)
    for _ in 0..<count { buffer.writeInteger(UInt8(truncatingIfNeeded: generator.next())) }
    return buffer
}

/// A small seeded PRNG (tests never use global randomness).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func fileSize(_ path: String) -> UInt64 {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.uint64Value ?? 0
}

func truncateFile(_ path: String, to size: UInt64) {
    precondition(truncate(path, off_t(size)) == 0, "truncate \(path) failed")
}

/// Overwrites one byte of a file with its complement.
func flipByte(_ path: String, at offset: UInt64) {
    let handle = FileHandle(forUpdatingAtPath: path)!
    try! handle.seek(toOffset: offset)
    let old = try! handle.read(upToCount: 1)!
    try! handle.seek(toOffset: offset)
    try! handle.write(contentsOf: Data([~old[0]]))
    try! handle.close()
}

/// Store options for tests: small volumes, and a logger that discards the (expected) recovery warnings.
func testOptions(volumeSize: UInt64 = 64 * 1024) -> LocalChunkStore.Options {
    var options = LocalChunkStore.Options()
    options.volumeSizeBytesMax = volumeSize
    options.logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    return options
}

extension LocalChunkStore {
    /// Reads a whole chunk of known length.
    func readAll(_ chunkID: UInt128, length: Int) async throws(BlobError) -> ByteBuffer {
        try await self.read(chunkID, offset: 0, length: length)
    }
}

/// Whether `body` throws exactly `expected`.
func throwsBlobError<T>(_ expected: BlobError, _ body: () async throws -> T) async -> Bool {
    do {
        _ = try await body()
        return false
    } catch {
        return (error as? BlobError) == expected
    }
}
