public import MetaContract

/// The blob cluster map over the metadata RPC, for the processes that hold no metadata: `silo blob`
/// registers and sends heartbeats, `silo gateway` follows the map, `silo admin cluster blob` lists and
/// changes it. Every call is authenticated by the cluster secret like any metadata RPC (`MetaWire`).
extension RemoteMetaLog {
    /// Registers `registration` (or updates it), through the metadata log. Throws the refusal (a removed
    /// node: `.blobNodeRemoved`; a bad field: `.invalidArgument`) or what `propose` throws.
    public func registerBlobNode(_ registration: BlobNodeRegistration) async throws(MetaError) {
        let envelope = Self.blobEnvelope("register/\(registration.id)")
        try await expectDone(.registerBlobNode(envelope, node: registration))
    }

    /// An operator's state change (drain, remove, back up, down).
    public func setBlobNodeState(_ node: UInt32, _ state: BlobNodeState) async throws(MetaError) {
        try await expectDone(.setBlobNodeState(Self.blobEnvelope("state/\(node)"), node: node, state: state))
    }

    /// The whole map, linearizable.
    public func blobMap() async throws(MetaError) -> BlobMap {
        let result = try await query(.blobMap)
        switch result {
        case .blobMap(let map): return map
        case .failed(let error): throw error
        default: throw .internalFault("blob map query answered \(result)")
        }
    }

    /// Sends one heartbeat to the metadata leader (never a log entry). True when the map holds the node,
    /// false when it must register (again).
    public func sendHeartbeat(_ heartbeat: BlobHeartbeat) async throws(MetaError) -> Bool {
        let body = try await send(
            .heartbeat, heartbeat.encode(), writes: true,
            deadline: BlobMapLimits.heartbeatDeadline)
        guard body.count == 1, body[0] <= 1 else { throw .internalFault("heartbeat answered \(body)") }
        return body[0] == 1
    }

    /// What the leader last heard from each blob node (the first non-empty answer among the replicas; empty
    /// when none leads or no node sends heartbeats).
    public func blobHeartbeatReports() async -> [BlobHeartbeatReport] {
        for node in nodes.withLock({ $0 }) {
            guard case .success(let payload) = await node.call(.blobReports, []),
                payload.first == MetaWire.Status.ok.rawValue,
                let reports = try? BlobHeartbeatReports(decoding: Array(payload.dropFirst())), !reports.reports.isEmpty
            else { continue }
            return reports.reports
        }
        return []
    }

    private func expectDone(_ command: MetaCommand) async throws(MetaError) {
        let result = try await propose(command.encode())
        switch result {
        case .done: return
        case .failed(let error): throw error
        default: throw .internalFault("blob map command answered \(result)")
        }
    }

    /// A command id unique to this call (so a retry inside `propose` is recognised) and no time: the leader
    /// stamps every command that comes over the RPC (`RaftMetaLog.stamp`).
    private static func blobEnvelope(_ what: String) -> CommandEnvelope {
        CommandEnvelope(commandID: "blob/\(what)/\(UInt64.random(in: 1...UInt64.max))", requester: "", time: 0)
    }
}
