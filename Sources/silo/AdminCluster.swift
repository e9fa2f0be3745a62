import ArgumentParser
import Foundation
import Logging
import MetaQuorum
import NIOPosix
import RaftKit
import SiloNode

/// `silo admin cluster …`: the metadata group, over the metadata RPC with the cluster secret.
struct ClusterAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Inspect and change the metadata group (talks to silo meta with the cluster secret).",
        subcommands: [Status.self, AddLearner.self, Promote.self, Remove.self, TransferLeader.self, BlobNodes.self])

    struct Connection: ParsableArguments {
        @Option(help: "Metadata replicas' RPC addresses: HOST:PORT,… (env SILO_META).")
        var meta: String = ProcessInfo.processInfo.environment["SILO_META"] ?? "127.0.0.1:9100"

        @Option(help: "File holding the cluster secret (else env SILO_CLUSTER_SECRET).")
        var clusterSecretFile: String?

        func log() throws -> RemoteMetaLog {
            let addresses = try meta.split(separator: ",").map { try peerAddress(String($0), flag: "--meta") }
            var logger = Logger(label: "silo-admin")
            logger.logLevel = .error
            var options = RemoteMetaLog.Options()
            options.proposalDeadline = .seconds(20)
            return RemoteMetaLog(addresses: addresses, secret: try clusterSecret(file: clusterSecretFile),
                                 group: MultiThreadedEventLoopGroup.singleton, logger: logger, options: options)
        }

        func change(_ request: MembershipRequest) async throws {
            let log = try log()
            do {
                try await log.changeMembership(request)
            } catch {
                await log.close()
                throw ValidationError("\(request) failed: \(error)")
            }
            await log.close()
            print("done: \(request)")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Members, roles, leader, term, commit and applied index, and each replica's lag.")
        @OptionGroup var connection: Connection
        @Flag(help: "Print JSON (for scripts).") var json = false

        func run() async throws {
            let log = try connection.log()
            let statuses = await log.statuses()
            await log.close()
            let leaderCommit = statuses.compactMap(\.status).filter { $0.role == "leader" }.map(\.commitIndex).max()
            if json {
                let rows: [[String: Any]] = statuses.map { row in
                    var item: [String: Any] = ["address": "\(row.address)", "reachable": row.status != nil]
                    if let status = row.status {
                        item["id"] = status.id
                        item["role"] = status.role
                        item["term"] = status.term
                        item["leader"] = status.leaderID
                        item["commitIndex"] = status.commitIndex
                        item["appliedIndex"] = status.appliedIndex
                        item["voters"] = status.voters
                        item["learners"] = status.learners
                        if let leaderCommit { item["lag"] = leaderCommit > status.appliedIndex ? leaderCommit - status.appliedIndex : 0 }
                    }
                    return item
                }
                let data = try JSONSerialization.data(withJSONObject: ["replicas": rows], options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            print("ADDRESS               ID  ROLE           TERM  LEADER  COMMIT    APPLIED   LAG")
            for row in statuses {
                guard let status = row.status else {
                    print("\(pad("\(row.address)", 21)) -   unreachable")
                    continue
                }
                let lag = leaderCommit.map { $0 > status.appliedIndex ? "\($0 - status.appliedIndex)" : "0" } ?? "?"
                print("\(pad("\(row.address)", 21)) \(pad("\(status.id)", 3)) \(pad(status.role, 14)) \(pad("\(status.term)", 5)) "
                      + "\(pad("\(status.leaderID)", 7)) \(pad("\(status.commitIndex)", 9)) \(pad("\(status.appliedIndex)", 9)) \(lag)")
            }
            if let any = statuses.compactMap(\.status).first {
                print("voters: \(any.voters.map(String.init).joined(separator: ",")); learners: \(any.learners.map(String.init).joined(separator: ","))")
            }
            if leaderCommit == nil { throw ExitCode(2) }
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
    }

    struct AddLearner: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-learner",
            abstract: "Add a non-voting member (start it with `silo meta --join`), to promote once it caught up.")
        @OptionGroup var connection: Connection
        @Option(help: "The new member's node id.") var id: UInt64
        @Option(help: "The new member's Raft address, HOST:PORT.") var raft: String
        func run() async throws {
            _ = try peerAddress(raft, flag: "--raft")
            try await connection.change(.addLearner(id, raftAddress: raft))
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a learner a voter.")
        @OptionGroup var connection: Connection
        @Option(help: "The learner's node id.") var id: UInt64
        func run() async throws { try await connection.change(.promote(id)) }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member (to replace one whose disk is gone: remove it, then add a new id as a learner).",
            discussion: "Removing the leader first hands leadership to the most caught-up other voter.")
        @OptionGroup var connection: Connection
        @Option(help: "The member's node id.") var id: UInt64
        func run() async throws {
            try await handOffLeadershipIfLeader()
            try await connection.change(.remove(id))
        }

        /// A leader cannot remove itself (RaftKit refuses): transfer to the voter with the highest applied
        /// index and wait (bounded) until someone else leads.
        private func handOffLeadershipIfLeader() async throws {
            let log = try connection.log()
            defer { Task { await log.close() } }
            let statuses = await log.statuses().compactMap(\.status)
            guard let leader = statuses.filter({ $0.role == "leader" }).max(by: { $0.term < $1.term }),
                  leader.id == id else { return }
            guard let heir = statuses.filter({ $0.id != id && leader.voters.contains($0.id) })
                .max(by: { $0.appliedIndex < $1.appliedIndex }) else {
                throw ValidationError("node \(id) leads and no other voter answers: nothing to hand leadership to")
            }
            print("node \(id) leads: transferring leadership to node \(heir.id) first")
            do {
                try await log.changeMembership(.transferLeadership(to: heir.id))
            } catch {
                throw ValidationError("transfer of leadership to node \(heir.id) failed: \(error)")
            }
            for _ in 0..<100 {
                let now = await log.statuses().compactMap(\.status)
                if let current = now.filter({ $0.role == "leader" }).max(by: { $0.term < $1.term }), current.id != id {
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw ValidationError("node \(id) still leads 10 s after the transfer to node \(heir.id)")
        }
    }

    struct TransferLeader: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transfer-leader", abstract: "Hand leadership to another voter.")
        @OptionGroup var connection: Connection
        @Option(help: "The voter to lead.") var to: UInt64
        func run() async throws { try await connection.change(.transferLeadership(to: to)) }
    }
}
