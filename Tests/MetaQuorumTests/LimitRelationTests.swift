import RaftKit
import Testing

@testable import MetaQuorum

@Suite("MetaLimits against RaftKit")
struct LimitRelationTests {
    // Goal: a command MetaQuorum accepts always fits one Raft entry, and an entry always fits one WAL record,
    // so no accepted command can come back as `entryTooLarge` or be refused by the log.
    @Test func commandFitsEntryFitsRecord() {
        #expect(MetaLimits.commandBytesMax <= RaftKit.Limits.entryDataBytesMax)
        #expect(RaftKit.Limits.entryDataBytesMax + RaftKit.Limits.entryHeaderBytes <= StorageLimits.recordPayloadBytesMax)
        // An inline body is a small part of a command, never most of it.
        #expect(MetaLimits.inlineBodyBytesMax * 4 <= MetaLimits.commandBytesMax)
        #expect(MetaLimits.partNumberRange == 1...10_000)
        // The start-up check agrees (it stops the process on a violation).
        MetaLimits.validate()
    }

    // Goal: a live node is not marked down for one lost heartbeat, the leader checks at least as often as
    // nodes beat, and a heartbeat gives up before the next one is due.
    @Test func heartbeatLimits() {
        #expect(BlobMapLimits.heartbeatInterval * 3 <= BlobMapLimits.heartbeatSilenceMax)
        #expect(BlobMapLimits.livenessCheckInterval <= BlobMapLimits.heartbeatInterval)
        #expect(BlobMapLimits.heartbeatDeadline < BlobMapLimits.heartbeatInterval)
        #expect(BlobMapLimits.addressBytesMax >= MetaLimits.memberAddressBytesMax)
        BlobMapLimits.validate()
    }
}
