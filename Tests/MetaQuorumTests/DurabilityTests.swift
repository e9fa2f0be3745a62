import Testing

@testable import MetaQuorum

/// Bucket durability and chunk layouts in the metadata: the text form and its refusals, the chunk codec
/// (a replicated chunk's bytes are exactly the pre-erasure-coding format, so old logs and stored records
/// decode as replicated; an erasure-coded one carries its stripe), the command and query, the garbage queue
/// and the orphan sweeper's lookup of shard ids, and the schema step that adds `buckets.durability`.
@Suite struct DurabilityTests {
    @Test func textFormParsesAndRoundTrips() throws {
        let table: [(String, BucketDurability)] = [
            ("replicas:1", .replicas(1)), ("replicas:3", .replicas(3)),
            ("ec:4+2", .erasure(dataShards: 4, parityShards: 2)),
            ("ec:1+1", .erasure(dataShards: 1, parityShards: 1)),
            ("ec:16+8", .erasure(dataShards: 16, parityShards: 8)),
        ]
        for (text, expected) in table {
            let parsed = try BucketDurability(parsing: text)
            #expect(parsed == expected)
            #expect(parsed.description == text)
        }
    }

    @Test(arguments: [
        "", "replicas:", "replicas:0", "replicas:9", "replicas:-1", "replicas:+3", "replicas:3x", "replicas: 3",
        "ec:4", "ec:4+", "ec:+2", "ec:0+2", "ec:4+0", "ec:17+1", "ec:4+9", "ec:4+2+1", "ec:٤+2", "EC:4+2",
        "ec:0004+2", "mirror:2", String(repeating: "9", count: 100),
    ])
    func badTextIsRefusedWithTheAcceptedForms(text: String) {
        let outcome = Result { () throws(MetaError) in try BucketDurability(parsing: text) }
        guard case .failure(.invalidArgument(let message)) = outcome else {
            Issue.record("\(text) parsed as \(outcome)")
            return
        }
        #expect(message.contains("replicas:N") && message.contains("ec:K+M"))
    }

    // A replicated chunk encodes to the bytes every record before erasure coding had: id, size, node count,
    // nodes. Spelled out, so that a change to the encoding of replicated chunks cannot pass unnoticed.
    @Test func aReplicatedChunkHasThePreErasureBytes() throws {
        var legacy = ByteWriter(capacity: 32)
        legacy.writeChunkID(0x0102)
        legacy.writeInt(Int64(1 << 20))
        legacy.writeCount(3)
        for node in [4, 5, 6] { legacy.writeVarint(UInt64(node)) }
        let chunk = ChunkRef(id: 0x0102, sizeBytes: 1 << 20, nodes: [4, 5, 6])
        #expect(RecordBlob.encode { $0.write(chunk) } == legacy.bytes)
        let decoded = try RecordBlob.decode(legacy.bytes) { reader throws(MetaCodecError) in try reader.readChunk() }
        #expect(decoded == chunk)
        #expect(decoded.layout == .replicated)
    }

    @Test func anErasureCodedChunkRoundTripsAndIsChecked() throws {
        let stripe = ErasureStripe(
            dataShardCount: 4, parityShardCount: 2, shardSizeBytes: 250_001,
            shardChecksums: [1, 2, 3, 4, 0xFFFF_FFFF, 0])
        let chunk = ChunkRef(id: 77, sizeBytes: 1_000_003, nodes: [9, 8, 7, 6, 5, 4], layout: .erasure(stripe))
        let bytes = RecordBlob.encode { $0.write(chunk) }
        #expect(try RecordBlob.decode(bytes) { reader throws(MetaCodecError) in try reader.readChunk() } == chunk)
        // In an object record of the current format, and in a putObject command of format 4.
        var object = objectRecord(bucket: "b", key: "k", chunks: [chunk, ChunkRef(id: 78, sizeBytes: 5, nodes: [1])])
        object.owner = "u"
        let command = MetaCommand.putObject(envelope("r"), object: object, precondition: .none, startedTime: 1)
        #expect(try MetaCommand(decoding: command.encode()) == command)

        // A stripe whose shard count is not the node count, or whose shard size is not the chunk's, is refused.
        var writer = ByteWriter(capacity: 64)
        writer.writeChunkID(77)
        writer.writeInt(-1 - Int64(1000))
        writer.writeCount(5)
        for node in 0..<5 { writer.writeVarint(UInt64(node)) }
        for value in [4, 2, 250] { writer.writeInt(value) }
        for _ in 0..<6 { writer.writeVarint(0) }
        #expect(throws: MetaCodecError.self) {
            try RecordBlob.decode(writer.bytes) { reader throws(MetaCodecError) in try reader.readChunk() }
        }
        var wrongSize = ByteWriter(capacity: 64)
        wrongSize.writeChunkID(77)
        wrongSize.writeInt(-1 - Int64(1000))
        wrongSize.writeCount(6)
        for node in 0..<6 { wrongSize.writeVarint(UInt64(node)) }
        for value in [4, 2, 251] { wrongSize.writeInt(value) }
        for _ in 0..<6 { wrongSize.writeVarint(0) }
        #expect(throws: MetaCodecError.invalidValue("shard size 251 for a chunk of 1000 in 4 shards")) {
            try RecordBlob.decode(wrongSize.bytes) { reader throws(MetaCodecError) in try reader.readChunk() }
        }
    }

    @Test func shardIDsAreDistinctAndStoredRecordsNameThem() {
        let id: ChunkID = 0xABCD_0000_0000_0000_0000_0000_0000_1234
        let shards = (0..<6).map { ChunkRef.shardID(of: id, index: $0) }
        #expect(Set(shards + [id]).count == 7)
        let stripe = ErasureStripe(
            dataShardCount: 4, parityShardCount: 2, shardSizeBytes: 1,
            shardChecksums: Array(repeating: 0, count: 6))
        let chunk = ChunkRef(id: id, sizeBytes: 4, nodes: [10, 11, 12, 13, 14, 15], layout: .erasure(stripe))
        #expect(chunk.storedRecords.map(\.node) == [10, 11, 12, 13, 14, 15])
        #expect(chunk.storedRecords.map(\.id) == shards)
        #expect(ChunkRef(id: id, sizeBytes: 4, nodes: [1, 2]).storedRecords.map(\.id) == [id, id])
    }

    @Test func theDurabilityCommandAndQuery() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        #expect(
            try driver.apply(.setBucketDurability(envelope("1"), bucket: "nope", durability: .replicas(2)))
                == .failed(.noSuchBucket))
        try driver.apply(.createBucket(envelope("2"), name: "b"))
        #expect(try MetaQuery.bucketDurability(bucket: "b").run(on: driver.machine) == .durability(nil))
        let ec = BucketDurability.erasure(dataShards: 4, parityShards: 2)
        #expect(try driver.apply(.setBucketDurability(envelope("3"), bucket: "b", durability: ec)) == .done)
        #expect(try MetaQuery.bucketDurability(bucket: "b").run(on: driver.machine) == .durability(ec))
        // Out of the limits: a command is bytes from outside, so the decoder refuses it, and the state machine
        // checks again at apply time.
        let tooMany = MetaCommand.setBucketDurability(envelope("4"), bucket: "b", durability: .replicas(99))
        #expect(throws: MetaCodecError.invalidValue("durability replicas:99")) {
            try MetaCommand(decoding: tooMany.encode())
        }
        guard case .failed(.internalFault) = try driver.apply(tooMany) else {
            Issue.record("an out-of-range durability was applied")
            return
        }
        #expect(throws: MetaError.invalidArgument("ec:4+9 outside K 1–16, M 1–8")) {
            try driver.machine.applySetBucketDurability(
                bucket: "b", durability: .erasure(dataShards: 4, parityShards: 9))
        }
        #expect(try MetaQuery.bucketDurability(bucket: "b").run(on: driver.machine) == .durability(ec))
        #expect(try driver.apply(.setBucketDurability(envelope("5"), bucket: "b", durability: nil)) == .done)
        #expect(try MetaQuery.bucketDurability(bucket: "b").run(on: driver.machine) == .durability(nil))
        #expect(try MetaQuery.bucketDurability(bucket: "nope").run(on: driver.machine) == .failed(.noSuchBucket))
        for query in [MetaQuery.bucketDurability(bucket: "b")] {
            #expect(try MetaQuery(decoding: query.encode()) == query)
        }
        for result in [MetaQueryResult.durability(nil), .durability(ec), .durability(.replicas(3))] {
            #expect(try MetaQueryResult(decoding: result.encode()) == result)
        }
        // Kind 50 exists from format 4 only.
        var old = MetaCommand.setBucketDurability(envelope("6"), bucket: "b", durability: ec).encode()
        old[0] = 3
        #expect(throws: MetaCodecError.invalidTag(50)) { try MetaCommand(decoding: old) }
    }

    // An erasure-coded chunk is counted and queued as garbage by its chunk id; the blob nodes hold its shards
    // under shard ids, which the orphan sweeper's lookup recognises as referenced (live and queued alike).
    @Test func shardsOfLiveAndQueuedChunksAreReferenced() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        try driver.apply(.createBucket(envelope("1"), name: "b"))
        let stripe = ErasureStripe(
            dataShardCount: 4, parityShardCount: 2, shardSizeBytes: 3,
            shardChecksums: [1, 2, 3, 4, 5, 6])
        let coded = ChunkRef(id: 500, sizeBytes: 10, nodes: [1, 2, 3, 4, 5, 6], layout: .erasure(stripe))
        try driver.apply(
            .putObject(
                envelope("2"), object: objectRecord(bucket: "b", key: "k", chunks: [coded]),
                precondition: .none, startedTime: testStartTime))
        let shardIDs = (0..<6).map { ChunkRef.shardID(of: 500, index: $0) }
        let unrelated: ChunkID = 0x5555_0000_0000_0000_0000_0000_0000_0000
        #expect(try driver.machine.referencedChunks(shardIDs + [unrelated]) == Set(shardIDs))
        #expect(try driver.machine.objectRecord(bucket: "b", key: "k")?.chunks == [coded])
        // Replaced: the chunk goes to the garbage queue with its stripe, and its shards stay referenced.
        try driver.apply(
            .putObject(
                envelope("3"), object: objectRecord(bucket: "b", key: "k"),
                precondition: .none, startedTime: testStartTime))
        #expect(try driver.machine.garbageChunks(limit: 10).map(\.chunk) == [coded])
        #expect(try driver.machine.referencedChunks(shardIDs) == Set(shardIDs))
        try driver.apply(.forgetGarbage(envelope("4"), chunkIDs: [500]))
        #expect(try driver.machine.referencedChunks(shardIDs).isEmpty)
    }

    // A schema-7 database (before durability) migrates: the column appears, every bucket has the default,
    // and existing chunk references read as replicated.
    @Test func aSchemaSevenDatabaseIsMigrated() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/meta.sqlite"
        do {
            let driver = try MachineDriver(path: path)
            try driver.apply(.createBucket(envelope("1"), name: "b"))
            try driver.apply(
                .putObject(
                    envelope("2"), object: objectRecord(bucket: "b", key: "k", chunks: [chunk(1, 7)]),
                    precondition: .none, startedTime: testStartTime))
            try downgradeToSchemaSeven(driver.machine.database)
            try driver.machine.database.execute("UPDATE meta SET value = 7 WHERE name = 'schema_version'")
            driver.machine.close()
        }
        let reopened = try MachineDriver(path: path)
        defer { reopened.machine.close() }
        #expect(try reopened.machine.metaValue("schema_version") == MetaSchema.version)
        #expect(try reopened.machine.bucketDurability("b") == nil)
        #expect(try reopened.machine.objectRecord(bucket: "b", key: "k")?.chunks.map(\.layout) == [.replicated])
        try reopened.apply(.setBucketDurability(envelope("3"), bucket: "b", durability: .replicas(2)))
        #expect(try reopened.machine.bucketDurability("b") == .replicas(2))
    }

    // A shard's move to another node rewrites exactly that node in the record named (current object,
    // noncurrent version or part), keeps its position, changes no reference count, and is refused when the
    // record no longer names the chunk on the old node. The located scan names each chunk's record.
    @Test func relocatingAShardRewritesItsRecord() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let driver = try MachineDriver(path: directory.path + "/meta.sqlite")
        defer { driver.machine.close() }
        try driver.apply(.createBucket(envelope("1"), name: "b"))
        let stripe = ErasureStripe(dataShardCount: 2, parityShardCount: 1, shardSizeBytes: 5,
                                   shardChecksums: [1, 2, 3])
        func coded(_ id: ChunkID) -> ChunkRef {
            ChunkRef(id: id, sizeBytes: 10, nodes: [1, 2, 3], layout: .erasure(stripe))
        }
        try driver.apply(.putObject(envelope("2"), object: objectRecord(bucket: "b", key: "k", chunks: [coded(7), coded(8)]),
                                    precondition: .none, startedTime: testStartTime))
        try driver.apply(.createMultipartUpload(envelope("3"), upload: uploadRecord(bucket: "b", key: "m", uploadID: "u")))
        try driver.apply(.putPart(envelope("4"), bucket: "b", key: "m", uploadID: "u",
                                  part: PartRecord(partNumber: 1, sizeBytes: 10, etag: md5Hex(1),
                                                   lastModifiedTime: testStartTime, checksum: nil, chunks: [coded(9)]),
                                  startedTime: testStartTime))
        let page = try driver.machine.chunkPlacements(after: nil, limit: 100)
        #expect(page.chunks.map(\.id) == [7, 8, 9])
        #expect(page.records == [.afterObject(bucket: "b", key: "k"), .afterObject(bucket: "b", key: "k"),
                                 .afterPart(uploadID: "u", partNumber: 1)])
        let located = MetaQueryResult.locatedPlacements(page)
        #expect(try MetaQueryResult(decoding: located.encode()) == located)
        #expect(try MetaQuery.chunkPlacements(after: nil, limit: 100).run(on: driver.machine)
                    == .placements(ChunkPlacementPage(chunks: page.chunks, next: page.next)))

        let object = ChunkScanPosition.afterObject(bucket: "b", key: "k")
        #expect(try driver.apply(.relocateChunk(envelope("5"), record: object, chunkID: 8, from: 2, to: 6)) == .done)
        let chunks = try #require(try driver.machine.objectRecord(bucket: "b", key: "k")).chunks
        #expect(chunks.map(\.nodes) == [[1, 2, 3], [1, 6, 3]])
        #expect(chunks[1].layout == .erasure(stripe))
        let part = ChunkScanPosition.afterPart(uploadID: "u", partNumber: 1)
        #expect(try driver.apply(.relocateChunk(envelope("6"), record: part, chunkID: 9, from: 3, to: 4)) == .done)
        #expect(try driver.machine.partRecords(uploadID: "u")[0].chunks[0].nodes == [1, 2, 4])
        // Refusals: moved already, onto a node that holds a shard, a chunk the record does not name, no record.
        for (request, command) in [
            ("7", MetaCommand.relocateChunk(envelope("7"), record: object, chunkID: 8, from: 2, to: 5)),
            ("8", .relocateChunk(envelope("8"), record: object, chunkID: 7, from: 1, to: 3)),
            ("9", .relocateChunk(envelope("9"), record: object, chunkID: 9, from: 1, to: 5)),
            ("10", .relocateChunk(envelope("10"), record: .afterObject(bucket: "b", key: "nope"), chunkID: 7, from: 1, to: 5)),
            ("11", .relocateChunk(envelope("11"), record: .afterVersion(bucket: "b", key: "k", seq: 1), chunkID: 7,
                                  from: 1, to: 5)),
        ] {
            #expect(try driver.apply(command) == .failed(.noSuchKey), "request \(request)")
        }
        #expect(try driver.machine.objectRecord(bucket: "b", key: "k")?.chunks.map(\.nodes) == [[1, 2, 3], [1, 6, 3]])
        // Replaced: the chunks go to the garbage queue with the nodes they had then.
        try driver.apply(.putObject(envelope("12"), object: objectRecord(bucket: "b", key: "k"), precondition: .none,
                                    startedTime: testStartTime))
        #expect(try driver.machine.garbageChunks(limit: 10).map(\.chunk.nodes) == [[1, 2, 3], [1, 6, 3]])
    }
}
