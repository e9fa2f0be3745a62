import ClusterAuth
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import BlobNode

/// The real `silo blob` binary: it announces its bound port, serves a `RemoteChunkStore`, refuses to start
/// without a usable secret, and exits 0 on SIGTERM. The binary is the one built next to the test bundle (or
/// `SILO_BIN`); the suite is skipped when it was not built (`swift build --build-tests` builds it).
@Suite(.timeLimit(.minutes(2)), .enabled(if: BlobProcess.binary != nil, "the silo binary was not built"))
struct BlobProcessTests {
    @Test func servesAndStopsOnSIGTERM() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let secret = "process-test-secret-0123456789"
        let node = try BlobProcess.start(
            ["blob", "--id", "5", "--data", directory.path + "/blobs", "--listen", "127.0.0.1:0",
             "--reserved-space-mb", "0", "--volume-size-mb", "1"],
            environment: ["SILO_CLUSTER_SECRET": secret])
        defer { node.kill() }
        let line = try #require(await node.firstLine(within: .seconds(30)), "no announcement; stderr: \(node.errorText)")
        let prefix = "silo blob 5 serving on 127.0.0.1:"
        #expect(line.hasPrefix(prefix), "announced: \(line)")
        let port = try #require(Int(line.dropFirst(prefix.count)))
        #expect(port > 0)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try RemoteChunkStore(host: "127.0.0.1", port: port, secret: try ClusterSecret(secret), group: group)
        try await client.write(11, chunkBytes(11, count: 5000))
        #expect(try await client.read(11, offset: 100, length: 50) == chunkBytes(11, count: 5000).getSlice(at: 100, length: 50))
        let status = try await client.stat()
        #expect(status.nodeID == 5)
        #expect(status.chunkCount == 1)
        await client.close()
        try await group.shutdownGracefully()

        #expect(node.signal(SIGTERM))
        let status2 = await node.exitStatus(within: .seconds(20))
        #expect(status2 == 0, "exit status after SIGTERM; stderr: \(node.errorText)")
        // The volume files are for the node's user only.
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path + "/blobs")[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func refusesToStartWithoutAUsableSecret() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let arguments = ["blob", "--id", "1", "--data", directory.path, "--listen", "127.0.0.1:0"]
        for environment in [[:], ["SILO_CLUSTER_SECRET": "short"]] {
            let node = try BlobProcess.start(arguments, environment: environment)
            defer { node.kill() }
            let status = await node.exitStatus(within: .seconds(20))
            #expect(status != nil && status != 0, "started with \(environment); stderr: \(node.errorText)")
            #expect(node.errorText.contains("secret"), "stderr: \(node.errorText)")
        }
    }
}

/// A `silo` child process with its stdout and stderr collected.
///
/// `@unchecked Sendable`: `process` is configured before `run()` and afterwards only queried (`isRunning`,
/// `terminationStatus`, `processIdentifier`, which Foundation synchronizes); the output is behind a Mutex.
final class BlobProcess: @unchecked Sendable {
    /// `SILO_BIN`, else `silo` next to the test bundle in the build directory.
    static let binary: String? = {
        if let explicit = ProcessInfo.processInfo.environment["SILO_BIN"] { return explicit }
        let candidate = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("silo").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }()

    private let process: Process
    private let output = Mutex<(stdout: [UInt8], stderr: [UInt8])>(([], []))

    private init(process: Process) {
        self.process = process
    }

    static func start(_ arguments: [String], environment: [String: String]) throws -> BlobProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.binary))
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited["SILO_CLUSTER_SECRET"] = nil
        process.environment = inherited.merging(environment) { $1 }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        let child = BlobProcess(process: process)
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            child.output.withLock { $0.stdout += data }
        }
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            child.output.withLock { $0.stderr += data }
        }
        try process.run()
        return child
    }

    var errorText: String { String(decoding: self.output.withLock { $0.stderr }, as: UTF8.self) }

    /// The first line on stdout, or nil if none came within `limit`.
    func firstLine(within limit: Duration) async -> String? {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            let text = String(decoding: self.output.withLock { $0.stdout }, as: UTF8.self)
            if let newline = text.firstIndex(of: "\n") { return String(text[..<newline]) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The exit status, or nil if the process was still running after `limit`.
    func exitStatus(within limit: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            if !self.process.isRunning { return self.process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func signal(_ signal: Int32) -> Bool {
        Foundation.kill(self.process.processIdentifier, signal) == 0
    }

    /// Ends the child by its pid if it still runs (a failed test must not leave it behind).
    func kill() {
        if self.process.isRunning { _ = self.signal(SIGKILL) }
    }
}
