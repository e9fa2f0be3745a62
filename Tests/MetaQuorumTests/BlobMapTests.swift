import Testing

@testable import MetaQuorum

/// Goal: the blob cluster map (command kinds 70–72, table `blob_nodes`, query tag 70) keeps its promises:
/// registration adds or updates a node, every change of a placement input bumps the epoch by one and nothing
/// else does, removal is final, liveness decisions only move between up and down, and the commands exist
/// from format 5 only. Method: commands applied to a real state machine in a temporary directory, and the pure
/// `BlobLiveness` driven with hand-picked times.
@Suite("Blob cluster map")
struct BlobMapTests {
    func envelope(_ id: String, time: Int64 = testStartTime) -> CommandEnvelope {
        CommandEnvelope(commandID: id, requester: "", time: time)
    }

    func registration(
        _ id: UInt32, port: Int = 7000, zone: String? = nil, weight: Int = 1,
        capacity: UInt64 = 1 << 40
    ) -> BlobNodeRegistration {
        BlobNodeRegistration(id: id, address: "127.0.0.1:\(port)", zone: zone, weight: weight, capacityBytes: capacity)
    }

    func map(_ driver: MachineDriver) throws -> BlobMap {
        guard case .blobMap(let map) = try MetaQuery.blobMap.run(on: driver.machine) else {
            Issue.record("blobMap query answered something else")
            return BlobMap(epoch: 0, nodes: [])
        }
        return map
    }

    @Test func registrationAddsAndUpdatesNodes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        #expect(try map(driver) == BlobMap(epoch: 0, nodes: []))

        #expect(try driver.apply(.registerBlobNode(envelope("1"), node: registration(2, zone: "a"))) == .done)
        #expect(try driver.apply(.registerBlobNode(envelope("2"), node: registration(1, weight: 3))) == .done)
        var current = try map(driver)
        #expect(current.epoch == 2)
        #expect(current.nodes.map(\.id) == [1, 2])
        #expect(current.nodes.allSatisfy { $0.state == .up })
        #expect(current.node(2)?.zone == "a")
        #expect(current.node(1)?.placementWeight == 3)

        // The same registration again (a restart): nothing changes, not even the epoch.
        #expect(try driver.apply(.registerBlobNode(envelope("3"), node: registration(2, zone: "a"))) == .done)
        #expect(try map(driver) == current)
        // Capacity only: the row changes, the epoch does not (placement does not use capacity).
        #expect(
            try driver.apply(.registerBlobNode(envelope("4"), node: registration(2, zone: "a", capacity: 5)))
                == .done)
        current = try map(driver)
        #expect(current.epoch == 2)
        #expect(current.node(2)?.capacityBytes == 5)
        // A new address: placement input, the epoch moves.
        #expect(
            try driver.apply(
                .registerBlobNode(
                    envelope("5"),
                    node: registration(
                        2, port: 7001, zone: "a",
                        capacity: 5))) == .done)
        #expect(try map(driver).epoch == 3)
        #expect(try map(driver).node(2)?.address == "127.0.0.1:7001")
    }

    @Test func badRegistrationsAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        let bad = [
            BlobNodeRegistration(id: 1, address: "", zone: nil, weight: 1, capacityBytes: 0),
            BlobNodeRegistration(id: 1, address: "h:1", zone: "", weight: 1, capacityBytes: 0),
            BlobNodeRegistration(id: 1, address: "h:1", zone: nil, weight: -1, capacityBytes: 0),
            BlobNodeRegistration(
                id: 1, address: "h:1", zone: nil, weight: BlobMapLimits.weightMax + 1, capacityBytes: 0),
            BlobNodeRegistration(
                id: 1, address: String(repeating: "h", count: 301), zone: nil, weight: 1,
                capacityBytes: 0),
        ]
        for (index, node) in bad.enumerated() {
            let result = try driver.apply(.registerBlobNode(envelope("bad\(index)"), node: node))
            guard case .failed(.invalidArgument) = result else {
                Issue.record("registration \(node) answered \(result)")
                continue
            }
        }
        #expect(try map(driver) == BlobMap(epoch: 0, nodes: []))
    }

    @Test func operatorStatesAndRemovalIsFinal() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.registerBlobNode(envelope("1"), node: registration(1)))
        #expect(
            try driver.apply(.setBlobNodeState(envelope("2"), node: 9, state: .draining)) == .failed(.noSuchBlobNode(9))
        )
        #expect(try driver.apply(.setBlobNodeState(envelope("3"), node: 1, state: .draining)) == .done)
        var current = try map(driver)
        #expect(current.node(1)?.state == .draining)
        #expect(current.node(1)?.placementWeight == 0)
        #expect(current.epoch == 2)
        // Draining again: no change, no epoch.
        #expect(try driver.apply(.setBlobNodeState(envelope("4"), node: 1, state: .draining)) == .done)
        #expect(try map(driver).epoch == 2)
        // A registration (restart) keeps the drain.
        try driver.apply(.registerBlobNode(envelope("5"), node: registration(1)))
        #expect(try map(driver).node(1)?.state == .draining)

        #expect(try driver.apply(.setBlobNodeState(envelope("6"), node: 1, state: .removed)) == .done)
        current = try map(driver)
        #expect(current.node(1)?.state == .removed)
        #expect(current.epoch == 3)
        #expect(try driver.apply(.setBlobNodeState(envelope("7"), node: 1, state: .up)) == .failed(.blobNodeRemoved(1)))
        #expect(
            try driver.apply(.registerBlobNode(envelope("8"), node: registration(1))) == .failed(.blobNodeRemoved(1)))
        #expect(try driver.apply(.setBlobNodeLiveness(envelope("9"), node: 1, alive: true)) == .done)
        #expect(try map(driver) == current)
    }

    @Test func livenessMovesOnlyBetweenUpAndDown() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        try driver.apply(.registerBlobNode(envelope("1"), node: registration(1)))
        try driver.apply(.registerBlobNode(envelope("2"), node: registration(2)))
        #expect(
            try driver.apply(.setBlobNodeLiveness(envelope("3", time: testStartTime + 5), node: 1, alive: false))
                == .done)
        var current = try map(driver)
        #expect(current.node(1)?.state == .down)
        #expect(current.node(1)?.changedTime == testStartTime + 5)
        #expect(current.epoch == 3)
        // Down again: nothing.
        try driver.apply(.setBlobNodeLiveness(envelope("4"), node: 1, alive: false))
        #expect(try map(driver).epoch == 3)
        // Back: up, epoch moves.
        try driver.apply(.setBlobNodeLiveness(envelope("5"), node: 1, alive: true))
        #expect(try map(driver).node(1)?.state == .up)
        #expect(try map(driver).epoch == 4)
        // A draining node's silence does not undo the drain.
        try driver.apply(.setBlobNodeState(envelope("6"), node: 2, state: .draining))
        try driver.apply(.setBlobNodeLiveness(envelope("7"), node: 2, alive: false))
        current = try map(driver)
        #expect(current.node(2)?.state == .draining)
        #expect(current.epoch == 5)
        // A down node that registers again is up.
        try driver.apply(.setBlobNodeLiveness(envelope("8"), node: 1, alive: false))
        try driver.apply(.registerBlobNode(envelope("9"), node: registration(1)))
        #expect(try map(driver).node(1)?.state == .up)
        #expect(try map(driver).epoch == 7)
        #expect(
            try driver.apply(.setBlobNodeLiveness(envelope("10"), node: 3, alive: false)) == .failed(.noSuchBlobNode(3))
        )
    }

    // A schema-11 database (before the map) migrates to an empty map at epoch 0, and what it held stays.
    @Test func aSchemaElevenDatabaseIsMigrated() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/meta.sqlite"
        do {
            let driver = try MachineDriver(path: path)
            try driver.apply(
                .createBucket(
                    CommandEnvelope(commandID: "1", requester: "u", time: testStartTime),
                    name: "b", acl: nil, ownership: nil))
            try downgradeFromBlobMap(driver.machine.database)
            try driver.machine.database.execute("UPDATE meta SET value = 11 WHERE name = 'schema_version'")
            driver.machine.close()
        }
        let reopened = try MachineDriver(path: path)
        defer { reopened.machine.close() }
        #expect(try reopened.machine.metaValue("schema_version") == MetaSchema.version)
        #expect(try map(reopened) == BlobMap(epoch: 0, nodes: []))
        try reopened.apply(.registerBlobNode(envelope("2"), node: registration(1)))
        #expect(try map(reopened).epoch == 1)
        #expect(try reopened.machine.bucketRecord("b") != nil)
    }

    // Kinds 70–72 exist from format 5 only: the same bytes under format 4 are refused.
    @Test func blobMapKindsNeedFormatFive() throws {
        let envelope = envelope("r")
        for command in [
            MetaCommand.registerBlobNode(envelope, node: registration(4, zone: "z")),
            .setBlobNodeState(envelope, node: 4, state: .draining),
            .setBlobNodeLiveness(envelope, node: 4, alive: true),
        ] {
            var bytes = command.encode()
            #expect(bytes[0] == 5)
            #expect(try MetaCommand(decoding: bytes) == command)
            bytes[0] = 4
            #expect(throws: MetaCodecError.invalidTag(command.kind)) { try MetaCommand(decoding: bytes) }
        }
        var state = MetaCommand.setBlobNodeState(envelope, node: 4, state: .up).encode()
        state[state.count - 1] = 9
        #expect(throws: MetaCodecError.invalidTag(9)) { try MetaCommand(decoding: state) }
    }

    @Test func heartbeatsRoundTrip() throws {
        let heartbeat = BlobHeartbeat(node: 7, capacityBytes: 1 << 41, freeBytes: 12345, healthy: false)
        #expect(try BlobHeartbeat(decoding: heartbeat.encode()) == heartbeat)
        let reports = BlobHeartbeatReports([BlobHeartbeatReport(heartbeat: heartbeat, ageMilliseconds: 1500)])
        #expect(try BlobHeartbeatReports(decoding: reports.encode()) == reports)
        let bytes = heartbeat.encode()
        for length in 0..<bytes.count {
            #expect(throws: MetaCodecError.self) { try BlobHeartbeat(decoding: Array(bytes[..<length])) }
        }
    }
}
