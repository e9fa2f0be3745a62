public import ClusterAuth
public import Logging
public import NIOCore
public import RaftKit
import MetaContract

/// How a metadata replica tells gateways where it serves them: its metadata RPC address goes into the
/// replicated metadata (`setMemberAddress`, table `meta_members`), and every replica's status reports the
/// table (`MetaNodeStatus.apiAddresses`), which `RemoteMetaLog.refreshMembers` reads. So a gateway started
/// with one address finds every member, and members added later (`--join`) too.
///
/// Who calls it: `silo meta`, once after start and then now and then (`MemberAddressPublisher`), until
/// its address is in the table as this replica has applied it.
extension RaftMetaLog {
    /// The addresses this replica's state machine has applied, by member id (not linearizable: for
    /// status and discovery only).
    public func publishedAddresses() async -> [UInt64: String] {
        (try? await machine.read { try $0.memberAddresses() }) ?? [:]
    }

    /// One attempt to publish `address` as this replica's metadata RPC address. True when this replica has
    /// applied it (now or before). As leader it proposes the change itself; as a follower it sends it to
    /// the leader's published address (false while the leader has published none: the leader publishes its
    /// own first). Throws nothing: a failed attempt is retried by the caller.
    public func publishAPIAddress(_ address: PeerAddress, secret: ClusterSecret, group: any EventLoopGroup,
                                  logger: Logger) async -> Bool {
        let id = configuration.id
        let published = await publishedAddresses()
        if published[id] == address.description { return true }
        let envelope = CommandEnvelope(commandID: "member/\(id)/\(UInt64.random(in: 1...UInt64.max))",
                                       requester: "", time: max(configuration.clock(), committedTime))
        let command = MetaCommand.setMemberAddress(envelope, member: id, apiAddress: address.description).encode()
        let status = await driver.status
        let result: MetaCommandResult
        if status.role == .leader {
            guard let local = try? await propose(command) else { return false }
            result = local
        } else {
            guard status.leaderID != 0, let leader = published[status.leaderID].flatMap({ PeerAddress(parsing: $0) })
            else { return false }
            var options = RemoteMetaLog.Options()
            options.proposalDeadline = .seconds(5)
            let remote = RemoteMetaLog(addresses: [leader], secret: secret, group: group, logger: logger,
                                       options: options)
            defer { Task { await remote.close() } }
            guard let answered = try? await remote.propose(command) else { return false }
            result = answered
        }
        guard case .done = result else {
            logger.warning("publishing this replica's RPC address was refused", metadata: ["result": "\(result)"])
            return false
        }
        logger.info("published this replica's metadata RPC address", metadata: ["address": "\(address)"])
        return (await publishedAddresses())[id] == address.description
    }
}
