import Foundation
import HistoryChecker
import Testing

/// Where Porcupine's reference histories live: `../shared/porcupine-test-data` next to the package root
/// (they are MIT-licensed data that must not be copied into the project).
enum ReferenceData {
    static var directory: URL {
        URL(fileURLWithPath: #filePath)  // <root>/Tests/HistoryCheckerTests/PorcupineDataTests.swift
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/porcupine-test-data")
    }

    /// `VERDICTS.txt` as (relative path, linearizable?) pairs; files without a verdict are left out.
    static func verdicts() throws -> [(path: String, linearizable: Bool)] {
        let text = try String(contentsOf: directory.appendingPathComponent("VERDICTS.txt"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 2 else { return nil }
            switch parts[1] {
            case "linearizable": return (String(parts[0]), true)
            case "NOT-linearizable": return (String(parts[0]), false)
            default: return nil
            }
        }
    }

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(relativePath), encoding: .utf8)
    }
}

@Suite("Porcupine reference histories")
struct PorcupineDataTests {
    /// Goal: the checker agrees with Porcupine on all 102 Jepsen etcd histories. Method: parse each log as
    /// Porcupine's `parseJepsenLog` does, check it with the single-register model (no budget), and compare
    /// with VERDICTS.txt; print the total time.
    @Test func jepsenEtcdHistoriesGetTheirVerdicts() throws {
        let cases = try ReferenceData.verdicts().filter { $0.path.hasPrefix("jepsen/") }
        #expect(cases.count == 102)
        let clock = ContinuousClock()
        var total = Duration.zero
        var slowest = (path: "", time: Duration.zero)
        for (path, linearizable) in cases {
            let operations = PorcupineLog.parseEtcd(text: try ReferenceData.text(path))
            #expect(!operations.isEmpty, "\(path) parsed to nothing")
            var report: LinearizabilityReport<RegisterModel.Input, RegisterModel.Output>? = nil
            let time = clock.measure {
                report = LinearizabilityChecker(model: RegisterModel(), workers: 1).check(operations)
            }
            total += time
            if time > slowest.time { slowest = (path, time) }
            let result = try #require(report).result
            if linearizable {
                #expect(result.isOK, "\(path): expected linearizable, got \(result)")
            } else if case .illegal = result {
            } else {
                Issue.record("\(path): expected NOT linearizable, got \(result)")
            }
        }
        print("102 Jepsen etcd histories checked in \(total) (slowest: \(slowest.path), \(slowest.time))")
    }

    /// Goal: the kv histories, partitioned per key, get their verdicts quickly. Method: parse as Porcupine's
    /// `parseKvLog`, check with the keyed register (initial value ""), compare with VERDICTS.txt. One worker
    /// on purpose: c50-bad has a partition that takes minutes to search and another refuted at once, so this
    /// also shows that partitions take turns rather than run to completion in order.
    @Test func kvHistoriesPartitionedPerKeyGetTheirVerdicts() throws {
        let cases = try ReferenceData.verdicts().filter { $0.path.hasPrefix("kv/") }
        #expect(cases.count == 6)
        for (path, linearizable) in cases {
            let operations = PorcupineLog.parseKV(text: try ReferenceData.text(path))
            let report = LinearizabilityChecker(model: RegisterModel(initialValue: ""), timeout: .seconds(30), workers: 1)
                .check(operations)
            print("\(path): \(report.operationCount) ops in \(report.partitionSizes.count) keys, \(report.elapsed)")
            if linearizable {
                #expect(report.result.isOK, "\(path): expected linearizable, got \(report.result)")
            } else if case .illegal = report.result {
            } else {
                Issue.record("\(path): expected NOT linearizable, got \(report.result)")
            }
        }
    }
}
