import Foundation
import Testing

@testable import RaftKit

/// Data-driven scenarios in the style of etcd's interaction tests. Each file in `Scenarios/` is a list of
/// blocks: a command line, `----`, the expected output, and a blank line. `SILO_REWRITE=1` rewrites the
/// expectations in the source tree (commit the diff only if you can explain it).
///
/// Commands: `add-nodes N [prevote=false] [checkquorum=false]`, `campaign ID`, `propose ID TEXT`,
/// `stabilize`, `tick ID N`, `tick-all N`, `isolate ID`, `cut FROM TO`, `heal`, `crash ID`, `restart ID`,
/// `transfer FROM TO`, `read ID CONTEXT`, `status`, `applied ID`.
struct ScenarioTests {
    static let files: [String] = {
        guard let url = Bundle.module.url(forResource: "Scenarios", withExtension: nil),
            let names = try? FileManager.default.contentsOfDirectory(atPath: url.path)
        else { return [] }
        return names.filter { $0.hasSuffix(".txt") }.sorted()
    }()

    @Test func scenariosExist() { #expect(Self.files.count >= 2) }

    @Test(arguments: files) func scenario(file: String) throws {
        let url = Bundle.module.url(forResource: "Scenarios", withExtension: nil)!.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        let (rewritten, mismatches) = check(script: text)
        if ProcessInfo.processInfo.environment["SILO_REWRITE"] == "1" {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("Scenarios").appendingPathComponent(file)
            try rewritten.write(to: source, atomically: true, encoding: .utf8)
            return
        }
        for mismatch in mismatches { Issue.record(Comment(rawValue: "\(file): \(mismatch)")) }
    }

    /// Runs a script; returns the script with actual outputs and the list of mismatches.
    func check(script: String) -> (String, [String]) {
        var cluster = TestCluster(voters: 1)
        var output = ""
        var mismatches: [String] = []
        let blocks = script.components(separatedBy: "\n\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        for block in blocks {
            let parts = block.components(separatedBy: "\n----\n")
            let command = parts[0].trimmingCharacters(in: .whitespacesAndNewlines)
            let expected = parts.count > 1 ? parts[1].trimmingCharacters(in: .newlines) : ""
            let actual = run(command, on: &cluster).trimmingCharacters(in: .newlines)
            if actual != expected { mismatches.append("`\(command)`: expected\n\(expected)\ngot\n\(actual)") }
            output += command + "\n----\n" + actual + "\n\n"
        }
        return (output, mismatches)
    }

    func run(_ line: String, on cluster: inout TestCluster) -> String {
        let lines = line.components(separatedBy: "\n").filter { !$0.hasPrefix("#") }
        let words = lines.joined(separator: " ").split(separator: " ").map(String.init)
        guard let verb = words.first else { return "" }
        let ids = words.dropFirst().compactMap { NodeID($0) }
        switch verb {
        case "add-nodes":
            cluster = TestCluster(voters: Int(ids[0])) { config in
                if words.contains("prevote=false") { config.preVote = false }
                if words.contains("checkquorum=false") { config.checkQuorum = false }
            }
            return "ok"
        case "campaign": cluster[ids[0]].campaign(); cluster.processAllReady(); return "ok"
        case "propose":
            do {
                try cluster.propose(ids[0], words[2])
                cluster.processAllReady()
                return "ok"
            } catch { return "error: \(error)" }
        case "stabilize": return "delivered \(cluster.stabilize())"
        case "tick": cluster.tick(ids[0], times: Int(ids[1])); cluster.processAllReady(); return "ok"
        case "tick-all": cluster.tickAll(times: Int(ids[0])); return "ok"
        case "isolate": cluster.isolate(ids[0]); return "ok"
        case "cut": cluster.cut.insert(.init(from: ids[0], to: ids[1])); return "ok"
        case "heal": cluster.heal(); return "ok"
        case "crash": cluster.crash(ids[0]); return "ok"
        case "restart": cluster.restart(ids[0]); return "ok"
        case "transfer":
            do { try cluster[ids[0]].transferLeadership(to: ids[1]); cluster.processAllReady(); return "ok" } catch {
                return "error: \(error)"
            }
        case "read":
            do { try cluster[ids[0]].readIndex(context: ids[1]); cluster.processAllReady(); return "ok" } catch {
                return "error: \(error)"
            }
        case "status":
            return cluster.ids.sorted().map { id in
                if cluster.down.contains(id) { return "\(id): down" }
                let node = cluster[id]
                let reads = cluster.readStates[id, default: []].map { "\($0.context)@\($0.index)" }
                return "\(id): \(node.role) term=\(node.term) leader=\(node.leaderID) last=\(node.lastIndex)"
                    + " commit=\(node.commitIndex)" + (reads.isEmpty ? "" : " reads=\(reads.joined(separator: ","))")
            }.joined(separator: "\n")
        case "applied": return cluster.appliedCommands(ids[0]).joined(separator: " ")
        default: return "unknown command \(verb)"
        }
    }
}
