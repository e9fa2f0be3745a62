@testable import Gateway
import MetaQuorum
import Testing

/// Goal: the default limits are consistent, and a configuration that would sweep chunks a write can still
/// commit, or exceed S3's part rules, is refused at start-up.
@Suite struct GatewayConfigurationTests {
    @Test func defaultsAreValid() throws {
        try GatewayConfiguration().validate()
    }

    @Test func orphanAgeMustOutliveCommittableWrites() {
        var configuration = GatewayConfiguration()
        configuration.orphanChunkAgeMilliseconds = MetaLimits.writeAgeMaxMilliseconds
        #expect(throws: S3Error.self) { try configuration.validate() }
    }

    @Test func partRulesAreChecked() {
        var configuration = GatewayConfiguration()
        configuration.partNumberMax = 10_001
        #expect(throws: S3Error.self) { try configuration.validate() }
        configuration = GatewayConfiguration()
        configuration.partSizeBytesMin = configuration.putSizeBytesMax + 1
        #expect(throws: S3Error.self) { try configuration.validate() }
    }
}
