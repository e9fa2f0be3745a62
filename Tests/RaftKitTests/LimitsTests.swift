import Testing

@testable import RaftKit

/// The relations between limits, and `Config.validate()`.
struct LimitsTests {
    /// Goal: the limits are consistent with one another.
    @Test func limitRelations() {
        // One largest entry fits in one message with room for headers.
        #expect(Limits.entryDataBytesMax + Limits.entryHeaderBytes < Limits.messageBytesMax)
        // A message may hold at least one full default batch.
        #expect(Config(id: 1, randomSeed: 0).appendEntriesMax <= Limits.entriesPerMessageMax)
        #expect(Limits.snapshotChunksInflightMax >= 1)
        #expect(Limits.learnerCatchUpEntriesMax >= 1)
        #expect(Limits.membersMax >= 5)
    }

    /// Goal: the defaults validate, and each bad field is refused with a message.
    @Test func configValidation() throws {
        try Config(id: 1, randomSeed: 0).validate()
        var bad: [Config] = []
        var c = Config(id: 0, randomSeed: 0); bad.append(c)
        c = Config(id: 1, randomSeed: 0); c.electionTimeoutTicks = 1; bad.append(c)
        c = Config(id: 1, randomSeed: 0); c.heartbeatIntervalTicks = 0; bad.append(c)
        c = Config(id: 1, randomSeed: 0); c.inflightAppendsMax = 0; bad.append(c)
        c = Config(id: 1, randomSeed: 0); c.inflightBytesMax = 1; bad.append(c)
        c = Config(id: 1, randomSeed: 0); c.snapshotChunkBytes = 0; bad.append(c)
        c = Config(id: 1, randomSeed: 0); c.pendingReadsMax = 0; bad.append(c)
        c = Config(id: 1, randomSeed: 0); c.uncommittedBytesMax = 10; bad.append(c)
        for config in bad {
            #expect(throws: ConfigError.self) { try config.validate() }
        }
    }
}
