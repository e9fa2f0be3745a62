import ClusterAuth
import Foundation
import Logging
import NIOPosix
import RaftKit
import Testing

@testable import MetaQuorum

/// Three metadata replicas on loopback TCP, each serving the metadata RPC, reached through `RemoteMetaLog` as
/// a gateway reaches them. Waits are bounded by counts of polls, never asserted on time.
final class MetaGroup {
    let directory: String
    let secret = try! ClusterSecret("cluster-tests-secret-0123456789")
    var raftPorts: [UInt64: Int] = [:]
    var apiPorts: [UInt64: Int] = [:]
    var replicas: [UInt64: RaftMetaLog] = [:]
    var servers: [UInt64: MetaRPCServer] = [:]
    let logger: Logger

    init() {
        directory = FileManager.default.temporaryDirectory.path + "/silo-cluster-test-" + UUID().uuidString
        var logger = Logger(label: "cluster-test")
        logger.logLevel = .error
        self.logger = logger
    }

    /// Free loopback ports, chosen by binding port 0 (then released for the replica to bind).
    static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        var ports: [Int] = []
        defer { for socket in sockets { close(socket) } }
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            sockets.append(fd)
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    /// Polls (bounded) until replica `id` has applied at least `index`.
    func waitApplied(_ id: UInt64, _ index: UInt64) async throws {
        for _ in 0..<1500 {
            if let replica = replicas[id], await replica.driver.status.appliedIndex >= index { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw MetaError.unavailable("replica \(id) did not reach index \(index)")
    }

    /// Starts the replicas on fresh ports. A port taken by another process between `freePorts` and the bind
    /// (other tests run beside this one) starts the group again on new ports, at most three times.
    func start(ids: [UInt64] = [1, 2, 3]) async throws {
        for attempt in 1...3 {
            let ports = try Self.freePorts(ids.count * 2)
            for (offset, id) in ids.enumerated() {
                raftPorts[id] = ports[offset * 2]
                apiPorts[id] = ports[offset * 2 + 1]
            }
            do {
                for id in ids { try await startReplica(id) }
                return
            } catch where attempt < 3 && "\(error)".contains("Address already in use") {
                for id in replicas.keys.sorted() { await stopReplica(id) }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }

    /// Compact the log after this many entries (small: to make followers need snapshots).
    var compactEveryEntries: UInt64 = 100_000

    func startReplica(_ id: UInt64, join: Bool = false) async throws {
        if raftPorts[id] == nil {
            let ports = try Self.freePorts(2)
            raftPorts[id] = ports[0]
            apiPorts[id] = ports[1]
        }
        let members = Dictionary(uniqueKeysWithValues: raftPorts.map { ($0.key, PeerAddress(host: "127.0.0.1", port: $0.value)) })
        var configuration = MetaReplicaConfiguration(id: id, directory: "\(directory)/meta\(id)", members: members)
        configuration.join = join
        configuration.electionTimeoutTicks = 30
        configuration.compactEveryEntries = compactEveryEntries
        configuration.peerSecret = secret
        let replica = try await RaftMetaLog.start(configuration, logger: logger, group: MultiThreadedEventLoopGroup.singleton)
        replicas[id] = replica
        servers[id] = try await MetaRPCServer.start(
            replica: replica, host: "127.0.0.1", port: apiPorts[id]!, secret: secret,
            group: MultiThreadedEventLoopGroup.singleton, logger: logger)
    }

    func stopReplica(_ id: UInt64) async {
        await servers.removeValue(forKey: id)?.close()
        await replicas.removeValue(forKey: id)?.close()
    }

    func remote(_ ids: [UInt64]? = nil, secret: ClusterSecret? = nil) -> RemoteMetaLog {
        let chosen = ids ?? apiPorts.keys.sorted()
        return RemoteMetaLog(
            addresses: chosen.map { PeerAddress(host: "127.0.0.1", port: apiPorts[$0]!) }, secret: secret ?? self.secret,
            group: MultiThreadedEventLoopGroup.singleton, logger: logger)
    }

    func leader() async throws -> UInt64 {
        for _ in 0..<1000 {
            for id in replicas.keys.sorted() where await replicas[id]!.driver.status.role == .leader { return id }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw MetaError.unavailable("no leader elected")
    }

    func stop() async {
        for id in replicas.keys.sorted() { await stopReplica(id) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Now, in milliseconds: commands carry real times (the state machine refuses a write started too long ago).
var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

func object(_ bucket: String, _ key: String, etag: String, time: Int64 = now) -> ObjectRecord {
    ObjectRecord(
        bucket: bucket, key: key, versionID: nullVersionID, sizeBytes: 1, etag: etag, lastModifiedTime: time,
        headers: [], userMetadata: [], checksum: nil, chunks: [ChunkRef(id: ChunkID(etag.hashValue.magnitude), sizeBytes: 1, nodes: [1])],
        partSizes: [])
}

@Suite("Metadata group over the RPC", .serialized)
struct MetaGroupTests {
    // Goal: a write through one gateway's client is seen at once by a client that reaches only a follower (ReadIndex
    // on a follower), listings included; a conditional create raced from two clients has exactly one winner.
    @Test func readAfterWriteFromAFollowerAndOneConditionalWinner() async throws {
        let group = MetaGroup()
        try await group.start()
        let leaderID = try await group.leader()
        let followerID = group.replicas.keys.sorted().first { $0 != leaderID }!
        let a = EmbeddedMetadataService(remote: group.remote(), logger: group.logger)
        // b asks the follower first: its reads stay there (ReadIndex through the leader), its writes find the leader.
        let b = EmbeddedMetadataService(remote: group.remote([followerID, leaderID]), logger: group.logger)
        do {
            try await a.createBucket(name: "b", owner: "alice", time: 1, commandID: "create-b")
            for index in 0..<20 {
                try await a.putObject(object("b", "k\(index)", etag: "e\(index)"), requester: "alice", precondition: .none,
                                      startedTime: now, commandID: "put-\(index)")
                #expect(try await b.object(bucket: "b", key: "k\(index)", requester: "alice")?.etag == "e\(index)")
            }
            let page = try await b.listObjects(
                ListObjectsQuery(bucket: "b", prefix: "k", delimiter: "", startAfter: "", maxKeys: 100), requester: "alice")
            #expect(page.objects.count == 20)

            let outcomes = await withTaskGroup(of: Bool.self) { tasks in
                for (index, service) in [a, b].enumerated() {
                    tasks.addTask {
                        do {
                            try await service.putObject(
                                object("b", "race", etag: "r\(index)"), requester: "alice", precondition: .ifNoneMatchAny,
                                startedTime: now, commandID: "race-\(index)")
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                var wins: [Bool] = []
                for await won in tasks { wins.append(won) }
                return wins
            }
            #expect(outcomes.filter { $0 }.count == 1)
        } catch {
            await group.stop()
            throw error
        }
        await a.close()
        await b.close()
        await group.stop()
    }

    // Goal: the leader stops while writes flow: every acknowledged write is still there afterwards, a new leader
    // serves, and a write retried with the same request id is applied once (its first outcome comes back).
    @Test func leaderLossKeepsAcknowledgedWrites() async throws {
        let group = MetaGroup()
        try await group.start()
        let client = EmbeddedMetadataService(remote: group.remote(), logger: group.logger)
        do {
            try await client.createBucket(name: "b", owner: "alice", time: 1, commandID: "create-b")
            let acknowledged = Acknowledged()
            let writer = Task {
                for index in 0..<150 {
                    do {
                        try await client.putObject(
                            object("b", "w\(index)", etag: "e\(index)"), requester: "alice", precondition: .none,
                            startedTime: now, commandID: "w-\(index)")
                        acknowledged.add(index)
                    } catch {
                        // Unknown or refused: not acknowledged, so not checked.
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(150))
            let leaderID = try await group.leader()
            await group.stopReplica(leaderID)
            await writer.value
            let newLeader = try await group.leader()
            #expect(newLeader != leaderID)
            let page = try await client.listObjects(
                ListObjectsQuery(bucket: "b", prefix: "w", delimiter: "", startAfter: "", maxKeys: 1000), requester: "alice")
            let listed = Set(page.objects.map(\.key))
            for index in acknowledged.all { #expect(listed.contains("w\(index)")) }
            #expect(acknowledged.all.count > 50)
            // The same request id again: the first outcome, no second version.
            let before = try await client.object(bucket: "b", key: "w1", requester: "alice")
            try await client.putObject(
                object("b", "w1", etag: "other"), requester: "alice", precondition: .none, startedTime: now, commandID: "w-1")
            #expect(try await client.object(bucket: "b", key: "w1", requester: "alice") == before)
        } catch {
            await group.stop()
            throw error
        }
        await client.close()
        await group.stop()
    }

    // Goal: a follower that was down while the log was compacted past it catches up by installing a snapshot (a
    // SQLite backup, restored into its database) and then answers reads with everything.
    @Test func laggingFollowerInstallsASnapshot() async throws {
        let group = MetaGroup()
        group.compactEveryEntries = 20
        try await group.start()
        let client = EmbeddedMetadataService(remote: group.remote(), logger: group.logger)
        do {
            _ = try await group.leader()
            try await client.createBucket(name: "b", owner: "alice", time: now, commandID: "create-b")
            let stoppedAt = await group.replicas[3]!.driver.status.appliedIndex
            await group.stopReplica(3)
            for index in 0..<80 {
                try await client.putObject(object("b", "s\(index)", etag: "e\(index)"), requester: "alice",
                                           precondition: .none, startedTime: now, commandID: "s-\(index)")
            }
            let leaderID = try await group.leader()
            let target = await group.replicas[leaderID]!.driver.status.commitIndex
            // The leader compacted its log past where replica 3 stopped: only a snapshot can bring it back.
            let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: "\(group.directory)/meta\(leaderID)/raft/snap")) ?? []
            let newest = snapshots.compactMap { UInt64($0.replacingOccurrences(of: ".snap", with: ""), radix: 16) }.max() ?? 0
            #expect(newest > stoppedAt + 1, "leader's newest snapshot \(newest), replica 3 stopped at \(stoppedAt)")
            try await group.startReplica(3)
            try await group.waitApplied(3, target)
            let onThree = EmbeddedMetadataService(remote: group.remote([3]), logger: group.logger)
            let page = try await onThree.listObjects(
                ListObjectsQuery(bucket: "b", prefix: "s", delimiter: "", startAfter: "", maxKeys: 1000), requester: "alice")
            #expect(page.objects.count == 80)
            await onThree.close()
        } catch {
            await client.close()
            await group.stop()
            throw error
        }
        await client.close()
        await group.stop()
    }

    // Goal: a client that knows one replica's address finds every member: replicas publish their RPC
    // addresses through the log (the leader first, followers through it), `refreshMembers` takes them into
    // the rotation, and the client then survives the loss of the one replica it was given; a member removed
    // from the group leaves the rotation at the next refresh.
    @Test func clientWithOneAddressFindsEveryMember() async throws {
        let group = MetaGroup()
        try await group.start()
        let remote = group.remote([1])
        let client = EmbeddedMetadataService(remote: remote, logger: group.logger)
        do {
            _ = try await group.leader()
            for _ in 0..<100 {
                var all = true
                for id in group.replicas.keys.sorted() {
                    let address = PeerAddress(host: "127.0.0.1", port: group.apiPorts[id]!)
                    let done = await group.replicas[id]!.publishAPIAddress(
                        address, secret: group.secret, group: MultiThreadedEventLoopGroup.singleton,
                        logger: group.logger)
                    all = all && done
                }
                if all { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let everyone = Set(group.apiPorts.values.map { PeerAddress(host: "127.0.0.1", port: $0) })
            #expect(Set(remote.addresses) == [PeerAddress(host: "127.0.0.1", port: group.apiPorts[1]!)])
            await remote.refreshMembers()
            #expect(Set(remote.addresses) == everyone)
            try await client.createBucket(name: "b", owner: "alice", time: now, commandID: "create-b")
            // The one replica the client was given goes away; the others answer (a new leader if it led).
            await group.stopReplica(1)
            try await client.putObject(object("b", "after", etag: "e1"), requester: "alice", precondition: .none,
                                       startedTime: now, commandID: "after-1")
            #expect(try await client.object(bucket: "b", key: "after", requester: "alice")?.etag == "e1")
            // Replica 1 is removed from the group (its process stays down): the next refresh drops it only
            // once a replica that answers says it is no member; a down replica is kept.
            await remote.refreshMembers()
            #expect(Set(remote.addresses) == everyone)
            try await remote.changeMembership(.remove(1))
            try await group.startReplica(1)
            await remote.refreshMembers()
            #expect(!remote.addresses.contains(PeerAddress(host: "127.0.0.1", port: group.apiPorts[1]!)))
            #expect(remote.addresses.count == 2)
        } catch {
            await client.close()
            await group.stop()
            throw error
        }
        await client.close()
        await group.stop()
    }

    // Goal: membership changes while writes flow: a learner joins, catches up and is promoted, an old voter is
    // removed, and leadership moves to the new member; no acknowledged write is lost on the way.
    @Test func learnerJoinsIsPromotedAndAVoterLeaves() async throws {
        let group = MetaGroup()
        try await group.start()
        // The gateways list every replica's RPC address, the one about to join included (a gateway learns no
        // addresses from the group).
        let ports = try MetaGroup.freePorts(2)
        group.raftPorts[4] = ports[0]
        group.apiPorts[4] = ports[1]
        let client = EmbeddedMetadataService(remote: group.remote(), logger: group.logger)
        let admin = group.remote()
        do {
            _ = try await group.leader()
            try await client.createBucket(name: "b", owner: "alice", time: now, commandID: "create-b")
            let acknowledged = Acknowledged()
            let writer = Task {
                for index in 0..<120 {
                    do {
                        try await client.putObject(object("b", "m\(index)", etag: "e\(index)"), requester: "alice",
                                                   precondition: .none, startedTime: now, commandID: "m-\(index)")
                        acknowledged.add(index)
                    } catch {}
                }
            }
            try await group.startReplica(4, join: true)
            try await admin.changeMembership(.addLearner(4, raftAddress: "127.0.0.1:\(group.raftPorts[4]!)"))
            let target = await group.replicas[try await group.leader()]!.driver.status.commitIndex
            try await group.waitApplied(4, target)
            // The leader refuses to promote a learner that has not caught up; it has, but retry a few times.
            var promoted = false
            for _ in 0..<50 where !promoted {
                do {
                    try await admin.changeMembership(.promote(4))
                    promoted = true
                } catch {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(promoted)
            let removed: UInt64 = (try await group.leader()) == 1 ? 2 : 1
            try await admin.changeMembership(.remove(removed))
            await group.stopReplica(removed)
            try await admin.changeMembership(.transferLeadership(to: 4))
            await writer.value
            let membership = await group.replicas[4]!.driver.membership
            #expect(membership.voters.contains(4) && !membership.voters.contains(removed))
            let page = try await client.listObjects(
                ListObjectsQuery(bucket: "b", prefix: "m", delimiter: "", startAfter: "", maxKeys: 1000), requester: "alice")
            let listed = Set(page.objects.map(\.key))
            for index in acknowledged.all { #expect(listed.contains("m\(index)")) }
        } catch {
            await admin.close()
            await client.close()
            await group.stop()
            throw error
        }
        await admin.close()
        await client.close()
        await group.stop()
    }

    // Goal: time decided once: a gateway whose clock runs a day fast cannot date objects in the future (or expire
    // request ids early): the leader stamps each command with its own clock, never before the last committed time.
    @Test func theLeaderStampsCommandTimes() async throws {
        let group = MetaGroup()
        try await group.start()
        let day: Int64 = 24 * 60 * 60 * 1000
        let fast = EmbeddedMetadataService(remote: group.remote(), logger: group.logger, clock: { now + day })
        do {
            _ = try await group.leader()
            try await fast.createBucket(name: "b", owner: "alice", time: now + day, commandID: "create-b")
            try await fast.putObject(object("b", "k", etag: "e1", time: now + day), requester: "alice",
                                     precondition: .none, startedTime: now + day, commandID: "put-k")
            let stored = try await fast.object(bucket: "b", key: "k", requester: "alice")
            let lastModified = try #require(stored?.lastModifiedTime)
            #expect(abs(lastModified - now) < 60_000, "Last-Modified \(lastModified - now) ms from now")
            #expect(try await fast.bucket(name: "b").map { abs($0.createdTime - now) < 60_000 } == true)
        } catch {
            await fast.close()
            await group.stop()
            throw error
        }
        await fast.close()
        await group.stop()
    }

    // Goal: access control crosses the metadata RPC whole: ACL, ownership and policy commands proposed through
    // one client are read back through another that asks a follower first, by `bucket` and by the combined
    // `objectAccess` read (bucket and object in one linearizable read), with owners decided at apply time.
    @Test func accessControlRoundTripsThroughTheRPC() async throws {
        let group = MetaGroup()
        try await group.start()
        let leaderID = try await group.leader()
        let followerID = group.replicas.keys.sorted().first { $0 != leaderID }!
        let a = EmbeddedMetadataService(remote: group.remote(), logger: group.logger)
        let b = EmbeddedMetadataService(remote: group.remote([followerID, leaderID]), logger: group.logger)
        do {
            let shared = AccessControlList(grants: [
                ACLGrant(grantee: .user(id: "alice"), permission: .fullControl),
                ACLGrant(grantee: .user(id: "bob"), permission: .write),
            ])
            try await a.createBucket(name: "b", owner: "alice", time: now, acl: shared, ownership: .objectWriter,
                                     commandID: "create-b")
            var written = object("b", "k", etag: "e1")
            written.acl = AccessControlList(grants: [ACLGrant(grantee: .allUsers, permission: .read)])
            try await a.putObject(written, requester: "bob", precondition: .none, startedTime: now, commandID: "put-k")
            try await a.setBucketPolicy(bucket: "b", policy: "{\"Statement\":[]}", requester: "alice", access: nil, commandID: "pol")
            let (bucket, stored) = try await b.objectAccess(bucket: "b", key: "k")
            #expect(bucket.acl == shared)
            #expect(bucket.ownership == .objectWriter)
            #expect(bucket.policy == "{\"Statement\":[]}")
            #expect(stored?.owner == "bob")
            #expect(stored?.acl == written.acl)
            try await a.putObjectACL(bucket: "b", key: "k", acl: .ownerOnly("bob"), requester: "bob", access: nil, commandID: "oacl")
            try await a.setOwnershipControls(bucket: "b", ownership: .bucketOwnerEnforced, requester: "alice",
                                             access: nil, commandID: "own")
            await #expect(throws: MetaError.aclNotSupported) {
                try await a.putBucketACL(bucket: "b", acl: shared, requester: "alice", access: nil, commandID: "bacl")
            }
            let after = try await b.objectAccess(bucket: "b", key: "k")
            #expect(after.object?.acl == .ownerOnly("bob"))
            #expect(after.bucket.acl == .ownerOnly("alice"))
            #expect(try await b.bucket(name: "b")?.ownership == .bucketOwnerEnforced)
            await #expect(throws: MetaError.noSuchBucket) { try await b.objectAccess(bucket: "none", key: "k") }
        } catch {
            await a.close()
            await b.close()
            await group.stop()
            throw error
        }
        await a.close()
        await b.close()
        await group.stop()
    }

    // Goal: a client with the wrong cluster secret gets nothing: its connection is closed, and the call fails as
    // unavailable (never a success, never an answer).
    @Test func wrongSecretIsRefused() async throws {
        let group = MetaGroup()
        try await group.start(ids: [1])
        _ = try await group.leader()
        let intruder = RemoteMetaLog(
            addresses: [PeerAddress(host: "127.0.0.1", port: group.apiPorts[1]!)],
            secret: try ClusterSecret("not-the-cluster-secret-at-all"), group: MultiThreadedEventLoopGroup.singleton,
            logger: group.logger, options: { var o = RemoteMetaLog.Options(); o.queryDeadline = .seconds(1); return o }())
        await #expect(throws: MetaError.self) {
            _ = try await intruder.query(.listUsers)
        }
        await intruder.close()
        await group.stop()
    }
}

final class Acknowledged: @unchecked Sendable {
    // @unchecked Sendable: `indexes` is guarded by `lock`.
    private let lock = NSLock()
    private var indexes: [Int] = []
    func add(_ index: Int) { lock.withLock { indexes.append(index) } }
    var all: [Int] { lock.withLock { indexes } }
}
