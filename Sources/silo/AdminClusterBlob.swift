import ArgumentParser
import Foundation
import MetaQuorum

extension ClusterAdmin {
    /// `silo admin cluster blob …`: the blob cluster map in the replicated metadata (command kinds 70–72).
    struct BlobNodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "blob",
            abstract: "List and change the blob nodes of the cluster map (silo blob --meta registers them).",
            subcommands: [List.self, Drain.self, Up.self, Remove.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Every registered blob node: state, address, zone, weight, capacity, last heartbeat.")
            @OptionGroup var connection: Connection
            @Flag(help: "Print JSON (for scripts).") var json = false

            func run() async throws {
                let log = try connection.log()
                let map: BlobMap
                do {
                    map = try await log.blobMap()
                } catch {
                    await log.close()
                    throw ValidationError("reading the blob cluster map failed: \(error)")
                }
                // The leader answers the reports: with every published member in rotation, it is among them even
                // when --meta names only followers.
                await log.refreshMembers()
                let reports = await log.blobHeartbeatReports()
                await log.close()
                var byNode: [UInt32: BlobHeartbeatReport] = [:]
                for report in reports { byNode[report.heartbeat.node] = report }
                if json {
                    let rows: [[String: Any]] = map.nodes.map { node in
                        var row: [String: Any] = [
                            "id": node.id, "address": node.address, "weight": node.weight,
                            "capacityBytes": node.capacityBytes, "state": node.state.description,
                            "changedTime": node.changedTime,
                        ]
                        if let zone = node.zone { row["zone"] = zone }
                        if let report = byNode[node.id] {
                            row["freeBytes"] = report.heartbeat.freeBytes
                            row["healthy"] = report.heartbeat.healthy
                            row["lastHeartbeatMs"] = report.ageMilliseconds
                        }
                        return row
                    }
                    let data = try JSONSerialization.data(
                        withJSONObject: ["epoch": map.epoch, "nodes": rows],
                        options: [.prettyPrinted, .sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                    return
                }
                print("epoch \(map.epoch)")
                print("ID     STATE     ADDRESS                ZONE        WEIGHT  CAPACITY    FREE        SEEN")
                for node in map.nodes {
                    let report = byNode[node.id]
                    let free = report.map { gib($0.heartbeat.freeBytes) + ($0.heartbeat.healthy ? "" : "!") } ?? "-"
                    let seen = report.map { "\($0.ageMilliseconds / 1000)s ago" } ?? "-"
                    print(
                        "\(pad("\(node.id)", 6)) \(pad(node.state.description, 9)) \(pad(node.address, 22)) "
                            + "\(pad(node.zone ?? "-", 11)) \(pad("\(node.weight)", 7)) \(pad(gib(node.capacityBytes), 11)) "
                            + "\(pad(free, 11)) \(seen)")
                }
            }

            private func gib(_ bytes: UInt64) -> String {
                String(format: "%.1fGiB", Double(bytes) / Double(1 << 30))
            }

            private func pad(_ text: String, _ width: Int) -> String {
                text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
            }
        }

        struct Drain: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stop placing new chunks on a node (it keeps serving the ones it holds).")
            @OptionGroup var connection: Connection
            @Argument(help: "The blob node's id.") var id: UInt32
            func run() async throws { try await BlobNodes.setState(.draining, of: id, connection: connection) }
        }

        struct Up: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Place new chunks on a node again (ends a drain, or marks a down node up until it is silent)."
            )
            @OptionGroup var connection: Connection
            @Argument(help: "The blob node's id.") var id: UInt32
            func run() async throws { try await BlobNodes.setState(.up, of: id, connection: connection) }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove a node from the map for good: its id is never placed on and cannot register again.")
            @OptionGroup var connection: Connection
            @Argument(help: "The blob node's id.") var id: UInt32
            func run() async throws { try await BlobNodes.setState(.removed, of: id, connection: connection) }
        }

        static func setState(_ state: BlobNodeState, of id: UInt32, connection: Connection) async throws {
            let log = try connection.log()
            do {
                try await log.setBlobNodeState(id, state)
            } catch {
                await log.close()
                throw ValidationError("setting blob node \(id) \(state) failed: \(error)")
            }
            await log.close()
            print("blob node \(id): \(state)")
        }
    }
}
