import Testing

@testable import RaftKit

/// Goal: every message kind, entry and hard state survives encode → decode, and malformed input throws
/// instead of trapping. Method: round-trip one example of each kind, then decode every truncation and a few
/// byte flips of each encoding.
struct CodecTests {
    static let conf = ConfState(voters: [1, 2, 3], learners: [4])
    static let entries = [
        Entry(term: 2, index: 7, kind: .normal, data: [1, 2, 3]),
        Entry(term: 2, index: 8, kind: .confChange, data: {
            var bytes: [UInt8] = []
            ConfChangeRecord(change: .addLearner(4), confState: conf).encode(into: &bytes)
            return bytes
        }()),
    ]
    static let kinds: [Message.Kind] = [
        .append(prevIndex: 6, prevTerm: 1, entries: entries, commit: 5),
        .append(prevIndex: 0, prevTerm: 0, entries: [], commit: 0),
        .appendAccepted(matchIndex: 8),
        .appendRejected(rejectedIndex: 9, hintIndex: 4, hintTerm: 3),
        .voteRequest(preVote: true, lastIndex: 8, lastTerm: 2, leadershipTransfer: false),
        .voteRequest(preVote: false, lastIndex: 8, lastTerm: 2, leadershipTransfer: true),
        .voteResponse(preVote: false, granted: true),
        .heartbeat(commit: 5, readRound: 77),
        .heartbeatResponse(readRound: 77),
        .snapshotChunk(metadata: SnapshotMetadata(index: 10, term: 2, confState: conf), offset: 4, totalBytes: 9,
            data: [9, 9, 9]),
        .snapshotAck(index: 10, nextOffset: 7),
        .timeoutNow,
        .readIndexRequest(context: 42),
        .readIndexResponse(context: 42, index: 8),
    ]

    @Test func messagesRoundTrip() throws {
        for kind in Self.kinds {
            let message = Message(from: 1, to: 2, term: 3, kind: kind)
            var bytes: [UInt8] = []
            message.encode(into: &bytes)
            #expect(try Message(decoding: bytes) == message)
        }
    }

    @Test func entriesAndHardStateRoundTrip() throws {
        for entry in Self.entries {
            var bytes: [UInt8] = []
            entry.encode(into: &bytes)
            #expect(try Entry(decoding: bytes) == entry)
        }
        let hard = HardState(term: 9, vote: 3, commit: 1 << 40)
        var bytes: [UInt8] = []
        hard.encode(into: &bytes)
        #expect(bytes.count == 24)
        #expect(try HardState(decoding: bytes) == hard)
        let record = try ConfChangeRecord(decoding: Self.entries[1].data)
        #expect(record.change == .addLearner(4))
        #expect(record.confState == Self.conf)
    }

    @Test func malformedInputThrows() {
        for kind in Self.kinds {
            var bytes: [UInt8] = []
            Message(from: 1, to: 2, term: 3, kind: kind).encode(into: &bytes)
            for length in 0..<bytes.count {
                #expect(throws: CodecError.self) { try Message(decoding: Array(bytes[..<length])) }
            }
            #expect(throws: CodecError.trailingBytes(1)) { try Message(decoding: bytes + [0]) }
        }
        var bad: [UInt8] = []
        Message(from: 1, to: 2, term: 3, kind: .timeoutNow).encode(into: &bad)
        bad[24] = 200
        #expect(throws: CodecError.unknownTag(200)) { try Message(decoding: bad) }
        var huge: [UInt8] = []
        Entry(term: 1, index: 1, data: []).encode(into: &huge)
        huge.replaceSubrange(17..<21, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(throws: CodecError.self) { try Entry(decoding: huge) }
    }
}
