@testable import Gateway
import BlobNode
import MetaQuorum
import S3Protocol
import Testing

/// Goal: the default limits are consistent, and a configuration that would sweep chunks a write can still
/// commit, or exceed S3's part rules, is refused at start-up.
@Suite struct GatewayConfigurationTests {
    @Test func defaultsAreValid() throws {
        try GatewayConfiguration().validate()
    }

    // Goal: the fixed limits of S3Protocol, MetaQuorum and RaftKit agree (the start-up check stops the
    // process otherwise); each relation is also stated here so a failure names it.
    @Test func moduleLimitsAgree() {
        #expect(S3Limits.partNumberMax == MetaLimits.partNumberRange.upperBound)
        #expect(GatewayConfiguration().partNumberMax == S3Limits.partNumberMax)
        #expect(S3Limits.xmlRequestBodyBytesMax >= S3Limits.completeMultipartBodyBytesMax)
        #expect(S3Limits.listKeysMax <= MetaLimits.listEntriesMax)
        #expect(MetaLimits.inlineBodyBytesMax < MetaLimits.commandBytesMax)
        #expect(GarbageCollector.pageSize <= MetaLimits.garbageChunksPerCallMax)
        #expect(OrphanSweeper.pageSize <= ChunkStoreLimits.chunksListedPerCallMax)
        GatewayConfiguration.checkLimitRelations()
    }

    @Test func orphanAgeMustOutliveCommittableWrites() {
        var configuration = GatewayConfiguration()
        configuration.orphanChunkAgeMilliseconds = MetaLimits.writeAgeMaxMilliseconds
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test func partRulesAreChecked() {
        var configuration = GatewayConfiguration()
        configuration.partNumberMax = 10_001
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration = GatewayConfiguration()
        configuration.partSizeBytesMin = configuration.putSizeBytesMax + 1
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
