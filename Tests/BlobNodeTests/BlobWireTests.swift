import ClusterAuth
import NIOCore
import Testing

@testable import BlobNode

/// The chunk protocol's frames, without sockets: every message round-trips, a stream split at any byte
/// decodes the same, and every malformed frame is refused with a `BlobWireError` (never a trap).
@Suite struct BlobWireTests {
    static let requests: [BlobRequest] = [
        .authenticate(authenticator: Array(repeating: 7, count: Limits.wireAuthenticatorBytes)),
        .ping,
        .put(chunkID: UInt128.max - 5, checksum: 0xDEAD_BEEF, bytes: chunkBytes(1, count: 1000)),
        .put(chunkID: 0, checksum: 0, bytes: ByteBuffer()),
        .get(chunkID: UInt128(1) << 100 | 42, offset: 17, length: Limits.chunkSizeBytesMax),
        .delete(chunkIDs: [1, 2, UInt128.max]),
        .delete(chunkIDs: []),
        .chunks(writtenBeforeTime: -1, after: nil, limit: 0),
        .chunks(writtenBeforeTime: 1_796_083_200_000, after: UInt128(1) << 127, limit: Limits.sweepListLimitMax),
        .stat,
    ]

    static let replies: [BlobReply] = [
        .challenge(nonce: Array(0..<UInt8(Limits.wireNonceBytes))),
        .ok,
        .bytes(checksum: 12345, bytes: chunkBytes(2, count: 333)),
        .chunkList([5, 1 << 64, UInt128.max]),
        .chunkList([]),
        .status(BlobNodeStatus(nodeID: 7, freeBytes: UInt64.max, chunkCount: Int.max)),
        .failure(.chunkNotFound(UInt128.max)),
        .failure(.checksumMismatch(3)),
        .failure(.rangeOutOfBounds(4)),
        .failure(.conflictingRewrite(5)),
        .failure(.diskFull("10 bytes free, 256 reserved")),
        .failure(.io("pread: Input/output error")),
        .failure(.invalidOptions("")),
        .failure(.unavailable("the chunk store is closed ✓")),
        .failure(.chunkTooLarge(bytes: 70_000_000, max: Limits.chunkSizeBytesMax)),
    ]

    static func encoded(_ request: BlobRequest, id: UInt64) -> ByteBuffer {
        BlobWire.encode(request, requestID: id, allocator: ByteBufferAllocator()).joined
    }

    static func encoded(_ reply: BlobReply, id: UInt64) -> ByteBuffer {
        BlobWire.encode(reply, requestID: id, allocator: ByteBufferAllocator()).joined
    }

    /// A request frame's bytes with the body replaced: `[length][version][id 9][opcode][fields]`.
    static func rawFrame(version: UInt8 = Limits.wireVersion, opcode: UInt8, fields: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(BlobWire.fixedHeaderBytes + fields.count))
        buffer.writeInteger(version)
        buffer.writeInteger(UInt64(9))
        buffer.writeInteger(opcode)
        buffer.writeBytes(fields)
        return buffer
    }

    @Test func everyRequestRoundTrips() throws {
        for (index, request) in Self.requests.enumerated() {
            var buffer = Self.encoded(request, id: UInt64(index) + 1)
            let frame = try BlobWire.decodeRequest(&buffer)
            #expect(frame == BlobFrame(requestID: UInt64(index) + 1, message: request))
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func everyReplyRoundTrips() throws {
        for (index, reply) in Self.replies.enumerated() {
            var buffer = Self.encoded(reply, id: UInt64.max - UInt64(index))
            let frame = try BlobWire.decodeReply(&buffer)
            #expect(frame == BlobFrame(requestID: UInt64.max - UInt64(index), message: reply))
            #expect(buffer.readableBytes == 0)
        }
    }

    /// Goal: TCP may cut the stream anywhere. Method: every request in one stream, fed in two pieces split at
    /// each byte; the decoder must wait for whole frames and then give the same sequence.
    @Test func aStreamSplitAtAnyByteDecodesTheSame() throws {
        var stream = ByteBuffer()
        for (index, request) in Self.requests.enumerated() {
            var frame = Self.encoded(request, id: UInt64(index))
            stream.writeBuffer(&frame)
        }
        for split in stride(from: 0, through: stream.readableBytes, by: 7) {
            var pending = stream.getSlice(at: 0, length: split)!
            var decoded: [BlobRequest] = []
            while let frame = try BlobWire.decodeRequest(&pending) { decoded.append(frame.message) }
            var rest = stream.getSlice(at: split, length: stream.readableBytes - split)!
            pending.writeBuffer(&rest)
            while let frame = try BlobWire.decodeRequest(&pending) { decoded.append(frame.message) }
            #expect(decoded == Self.requests, "split at \(split)")
            #expect(pending.readableBytes == 0)
        }
    }

    @Test func truncatedFramesWaitAndReadNothing() throws {
        let whole = Self.encoded(Self.requests[2], id: 1)
        for length in [0, 1, 3, 4, 5, whole.readableBytes - 1] {
            var partial = whole.getSlice(at: 0, length: length)!
            #expect(try BlobWire.decodeRequest(&partial) == nil)
            #expect(partial.readableBytes == length, "a partial frame must not be consumed")
        }
    }

    @Test func anOversizeLengthIsRefusedBeforeBuffering() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(Limits.wireFrameBytesMax + 1))
        #expect(throws: BlobWireError.frameTooLarge(bytes: UInt64(Limits.wireFrameBytesMax + 1))) {
            try BlobWire.decodeRequest(&buffer)
        }
        var huge = ByteBuffer()
        huge.writeInteger(UInt32.max)
        #expect(throws: BlobWireError.frameTooLarge(bytes: UInt64(UInt32.max))) { try BlobWire.decodeReply(&huge) }
    }

    /// Goal: a peer that has not authenticated cannot make the other side buffer a chunk-sized frame.
    @Test func theFirstFrameIsSmall() throws {
        let handshake = Limits.wireHandshakeFrameBytesMax
        var answer = Self.encoded(Self.requests[0], id: 0)
        #expect(try BlobWire.decodeRequest(&answer, frameBytesMax: handshake) != nil)
        var challenge = Self.encoded(Self.replies[0], id: 0)
        #expect(try BlobWire.decodeReply(&challenge, frameBytesMax: handshake) != nil)
        var put = Self.encoded(Self.requests[2], id: 1)
        #expect(throws: BlobWireError.frameTooLarge(bytes: UInt64(put.readableBytes - 4))) {
            try BlobWire.decodeRequest(&put, frameBytesMax: handshake)
        }
    }

    @Test func badVersionsAndOpcodesAreRefused() {
        var version = Self.rawFrame(version: 2, opcode: BlobOpcode.ping.rawValue, fields: [])
        #expect(throws: BlobWireError.unsupportedVersion(2)) { try BlobWire.decodeRequest(&version) }
        var unknown = Self.rawFrame(opcode: 0x3F, fields: [])
        #expect(throws: BlobWireError.unknownOpcode(0x3F)) { try BlobWire.decodeRequest(&unknown) }
        // A reply opcode is not a request, and a request opcode is not a reply.
        var wrongWay = Self.rawFrame(opcode: BlobOpcode.ok.rawValue, fields: [])
        #expect(throws: BlobWireError.unknownOpcode(BlobOpcode.ok.rawValue)) { try BlobWire.decodeRequest(&wrongWay) }
        var wrongWayBack = Self.rawFrame(opcode: BlobOpcode.ping.rawValue, fields: [])
        #expect(throws: BlobWireError.unknownOpcode(BlobOpcode.ping.rawValue)) { try BlobWire.decodeReply(&wrongWayBack) }
        var short = ByteBuffer()
        short.writeInteger(UInt32(3))
        short.writeBytes([1, 0, 0])
        #expect(throws: BlobWireError.self) { try BlobWire.decodeRequest(&short) }
    }

    @Test func fieldsOutOfBoundsAreRefused() {
        func refused(_ opcode: BlobOpcode, _ fields: [UInt8], reply: Bool = false) -> Bool {
            var buffer = Self.rawFrame(opcode: opcode.rawValue, fields: fields)
            do {
                if reply { _ = try BlobWire.decodeReply(&buffer) } else { _ = try BlobWire.decodeRequest(&buffer) }
                return false
            } catch {
                return true
            }
        }
        func be32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        let id = [UInt8](repeating: 1, count: 16)
        // Huge counts: refused from the count alone, before any allocation.
        #expect(refused(.delete, be32(UInt32(Limits.wireDeleteChunkIDsMax) + 1)))
        #expect(refused(.delete, be32(UInt32.max)))
        #expect(refused(.chunkList, be32(UInt32.max), reply: true))
        // A count that does not match the bytes that follow.
        #expect(refused(.delete, be32(2) + id))
        #expect(refused(.delete, be32(1) + id + [0]))
        // Offsets and lengths beyond the largest chunk, a limit beyond the listing maximum, a bad flag.
        #expect(refused(.get, id + be32(UInt32(Limits.chunkSizeBytesMax) + 1) + be32(0)))
        #expect(refused(.get, id + be32(0) + be32(UInt32.max)))
        let before = [UInt8](repeating: 0, count: 8)
        #expect(refused(.chunks, before + [0] + id + be32(UInt32(Limits.sweepListLimitMax) + 1)))
        #expect(refused(.chunks, before + [2] + id + be32(1)))
        // Truncated fixed fields, and bytes left over.
        #expect(refused(.get, id + be32(0)))
        #expect(refused(.put, [1, 2, 3]))
        #expect(refused(.authenticate, [UInt8](repeating: 0, count: Limits.wireAuthenticatorBytes - 1)))
        #expect(refused(.ping, [0]))
        #expect(refused(.stat, [0, 0]))
        // Error replies: an unknown code, a message longer than allowed, a message cut short.
        #expect(refused(.failure, [99], reply: true))
        #expect(refused(.failure, [WireErrorCode.io.rawValue] + be32(UInt32(Limits.wireErrorMessageBytesMax) + 1), reply: true))
        #expect(refused(.failure, [WireErrorCode.io.rawValue] + be32(10) + [65], reply: true))
        #expect(refused(.status, be32(1), reply: true))
        // A chunk count that does not fit an Int.
        #expect(refused(.status, be32(1) + [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 0xFF, count: 8), reply: true))
    }

    @Test func longErrorMessagesAreCutAtACharacterBoundary() throws {
        let message = String(repeating: "é", count: Limits.wireErrorMessageBytesMax)  // 2 bytes each
        var buffer = Self.encoded(BlobReply.failure(.io(message)), id: 1)
        let frame = try #require(try BlobWire.decodeReply(&buffer))
        guard case .failure(.io(let received)) = frame.message else {
            Issue.record("decoded \(frame.message)")
            return
        }
        #expect(received.utf8.count <= Limits.wireErrorMessageBytesMax)
        #expect(received == String(repeating: "é", count: Limits.wireErrorMessageBytesMax / 2))
        let cut = BlobWire.truncatedUTF8("aé", bytesMax: 2)
        #expect(Array(cut) == [UInt8(ascii: "a")])
    }

    /// Goal: the client never hands out bytes that do not match the checksum the node computed.
    @Test func readRepliesAreVerified() throws {
        let bytes = chunkBytes(3, count: 4096)
        let good = BlobReply.bytes(checksum: BlobWire.checksum(bytes), bytes: bytes)
        #expect(try BlobWire.verifiedBytes(good, chunkID: 1, length: 4096) == bytes)
        var damaged = bytes
        damaged.setInteger(~damaged.getInteger(at: 100, as: UInt8.self)!, at: 100)
        let corrupt = BlobReply.bytes(checksum: BlobWire.checksum(bytes), bytes: damaged)
        #expect(throws: BlobError.checksumMismatch(1)) { try BlobWire.verifiedBytes(corrupt, chunkID: 1, length: 4096) }
        #expect(throws: BlobError.self) { try BlobWire.verifiedBytes(good, chunkID: 1, length: 4095) }
        #expect(throws: BlobError.chunkNotFound(1)) {
            try BlobWire.verifiedBytes(.failure(.chunkNotFound(1)), chunkID: 1, length: 1)
        }
        #expect(throws: BlobError.self) { try BlobWire.verifiedBytes(.ok, chunkID: 1, length: 0) }
        // The checksum is the volume records' CRC-32: the known value of "123456789".
        #expect(BlobWire.checksum(ByteBuffer(string: "123456789")) == 0xCBF4_3926)
    }

    @Test func limitsFitTheWireFields() {
        #expect(Limits.wireFrameBytesMax <= Int(UInt32.max))
        #expect(Limits.chunkSizeBytesMax <= Int(UInt32.max))
        #expect(Limits.sweepListLimitMax <= Int(UInt32.max))
        #expect(Limits.wireDeleteChunkIDsMax <= Int(UInt32.max))
        // The largest fixed header (a put: 10 + id 16 + checksum 4) fits the room a frame keeps for it.
        #expect(BlobWire.fixedHeaderBytes + 16 + 4 <= Limits.wireFrameHeaderBytesMax)
        // A listing page of ids fits one frame.
        #expect(BlobWire.fixedHeaderBytes + 4 + 16 * Limits.sweepListLimitMax <= Limits.wireFrameBytesMax)
        #expect(BlobWire.fixedHeaderBytes + 4 + 16 * Limits.wireDeleteChunkIDsMax <= Limits.wireFrameBytesMax)
        #expect(Limits.serverRequestsInFlightPerConnectionMax <= Limits.serverRequestsInFlightTotalMax)
        #expect(Limits.remoteConnectionsMaxDefault <= Limits.remoteConnectionsMaxLimit)
        #expect(ClusterSecret.bytesMin >= 16)
        // The handshake frames (challenge, answer) fit the first-frame bound.
        #expect(BlobWire.fixedHeaderBytes + Limits.wireNonceBytes <= Limits.wireHandshakeFrameBytesMax)
        #expect(BlobWire.fixedHeaderBytes + Limits.wireAuthenticatorBytes <= Limits.wireHandshakeFrameBytesMax)
    }

    // Goal: the shared challenge refuses short secrets, binds an answer to its challenge, its secret and its
    // protocol (a chunk-protocol answer does not open the metadata RPC), and never prints the secret.
    @Test func shortSecretsAreRefusedAndAnswersAreBound() throws {
        #expect(throws: ClusterSecretError.self) { try ClusterSecret("too short") }
        let secret = try ClusterSecret("0123456789abcdef")
        let nonce = ClusterSecret.makeChallenge()
        #expect(nonce.count == Limits.wireNonceBytes)
        #expect(nonce != ClusterSecret.makeChallenge())
        let answer = secret.answer(to: nonce, protocol: BlobWire.challengeProtocol)
        #expect(answer.count == Limits.wireAuthenticatorBytes)
        #expect(secret.isValid(answer, to: nonce, protocol: BlobWire.challengeProtocol))
        #expect(!secret.isValid(answer, to: ClusterSecret.makeChallenge(), protocol: BlobWire.challengeProtocol))
        #expect(!secret.isValid(answer, to: nonce, protocol: ChallengeProtocol("silo-meta/1")))
        #expect(!(try ClusterSecret("0123456789abcdeF")).isValid(answer, to: nonce, protocol: BlobWire.challengeProtocol))
        #expect(!"\(secret)".contains("0123"))
    }
}
