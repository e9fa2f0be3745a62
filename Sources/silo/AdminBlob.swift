import ArgumentParser
import BlobNode
import Foundation
import NIOPosix

/// `silo admin blob status`: each blob node's id, reachability, free space and live chunk count, over the
/// chunk protocol with the cluster secret (exit 2 when a node does not answer).
struct BlobAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blob",
        abstract: "Inspect the blob nodes (talks to silo blob with the cluster secret).",
        subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each blob node: reachable or not, the id it answers with, free bytes and live chunks.")

        @Option(help: "The blob nodes: ID=HOST:PORT,… (env SILO_BLOB).")
        var blob: String = ProcessInfo.processInfo.environment["SILO_BLOB"] ?? ""

        @Option(help: "File holding the cluster secret (else env SILO_CLUSTER_SECRET).")
        var clusterSecretFile: String?

        @Flag(help: "Print JSON (for scripts).") var json = false

        func run() async throws {
            guard !blob.isEmpty else { throw ValidationError("--blob (or SILO_BLOB) lists no blob node") }
            let secret = try clusterSecret(file: clusterSecretFile)
            var options = RemoteChunkStore.Options()
            options.requestDeadline = .seconds(5)
            var rows: [(id: UInt64, address: String, status: Result<BlobNodeStatus, BlobError>)] = []
            for (id, address) in try parsePeers(blob).sorted(by: { $0.key < $1.key }) {
                let store: RemoteChunkStore
                do {
                    store = try RemoteChunkStore(host: address.host, port: address.port, secret: secret,
                                                 group: MultiThreadedEventLoopGroup.singleton, options: options)
                } catch {
                    rows.append((id, "\(address)", .failure(error)))
                    continue
                }
                do {
                    rows.append((id, "\(address)", .success(try await store.stat())))
                } catch {
                    rows.append((id, "\(address)", .failure(error)))
                }
                await store.close()
            }
            if json {
                let items: [[String: Any]] = rows.map { row in
                    var item: [String: Any] = ["id": row.id, "address": row.address]
                    switch row.status {
                    case .success(let status):
                        item["reachable"] = true
                        item["answersAs"] = status.nodeID
                        item["freeBytes"] = status.freeBytes
                        item["liveChunks"] = status.chunkCount
                    case .failure(let error):
                        item["reachable"] = false
                        item["error"] = "\(error)"
                    }
                    return item
                }
                let data = try JSONSerialization.data(withJSONObject: ["blobNodes": items], options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("ID    ADDRESS                STATE        FREE          LIVE CHUNKS")
                for row in rows {
                    switch row.status {
                    case .success(let status):
                        let state = UInt64(status.nodeID) == row.id ? "up" : "up (id \(status.nodeID)!)"
                        print("\(pad("\(row.id)", 5)) \(pad(row.address, 22)) \(pad(state, 12)) "
                              + "\(pad(Self.bytes(status.freeBytes), 13)) \(status.chunkCount)")
                    case .failure(let error):
                        print("\(pad("\(row.id)", 5)) \(pad(row.address, 22)) down         \(error)")
                    }
                }
            }
            let healthy = rows.allSatisfy { row in
                if case .success(let status) = row.status { return UInt64(status.nodeID) == row.id }
                return false
            }
            if !healthy { throw ExitCode(2) }
        }

        static func bytes(_ count: UInt64) -> String {
            let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
            var value = Double(count)
            var unit = 0
            while value >= 1024 && unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
        }
    }
}
