import ZlibCRC
import ClusterAuth
import NIOCore
import BlobContract

/// The chunk protocol between a blob node (`BlobServer`) and its clients (`RemoteChunkStore`). Pure: the NIO
/// handlers call it, the tests and the `blob-wire` fuzz target call it directly.
///
/// Every frame, both directions, big-endian:
///
/// ```
/// [body length u32][version u8][request id u64][opcode u8][fields of the opcode]
/// ```
///
/// The length counts the body (everything after the prefix) and is at most `Limits.wireFrameBytesMax` (one
/// chunk plus a fixed header); a connection's first frame, at most `Limits.wireHandshakeFrameBytesMax`. A client numbers its requests (0 is the authentication exchange); the server
/// answers each with one reply of the same id, in any order, so requests are pipelined on one connection.
///
/// Requests (client → server):
///
/// ```
/// 0x01 authenticate  HMAC-SHA256(secret, nonce || "silo-blob/1") (32 bytes), the answer to the challenge
/// 0x02 ping
/// 0x03 put           chunk id u128, CRC-32 of the bytes u32, the bytes (the rest of the frame)
/// 0x04 get           chunk id u128, offset u32, length u32 (each at most Limits.chunkSizeBytesMax)
/// 0x05 delete        count u32 (at most Limits.wireDeleteChunkIDsMax), count chunk ids u128
/// 0x06 chunks        written before (ms) i64, has-after u8 (0 or 1), after u128, limit u32
///                    (at most Limits.sweepListLimitMax)
/// 0x07 stat
/// ```
///
/// Replies (server → client):
///
/// ```
/// 0x40 challenge     32 random bytes (id 0, the first frame on every connection)
/// 0x41 ok            (authenticate, ping, put, delete)
/// 0x42 bytes         CRC-32 of the bytes u32, the bytes (get)
/// 0x43 chunk list    count u32 (at most Limits.sweepListLimitMax), count chunk ids u128 (chunks)
/// 0x44 status        node id u32, free bytes u64, live chunk count u64 (stat)
/// 0x45 failure       error code u8, then the fields of that `BlobError` case (`WireErrorCode`)
/// ```
///
/// A frame that breaks any rule (unknown version or opcode, a field out of its bounds, bytes missing or left
/// over) is a `BlobWireError`, and the side that reads it closes the connection.
enum BlobWire {
    /// What the cluster-secret challenge answer is bound to (`ClusterSecret.answer(to:protocol:)`).
    static let challengeProtocol = ChallengeProtocol("silo-blob/1")
    /// Version, request id and opcode.
    static let fixedHeaderBytes = 10

    // MARK: Encoding

    /// Encodes `request` as frame `requestID`. A put's bytes stay in their own buffer (`EncodedFrame.tail`).
    /// - Precondition: the request is within the protocol's bounds (callers check what users pass).
    static func encode(_ request: BlobRequest, requestID: UInt64, allocator: ByteBufferAllocator) -> EncodedFrame {
        var head = Self.startFrame(requestID: requestID, allocator: allocator)
        var tail: ByteBuffer?
        switch request {
        case .authenticate(let authenticator):
            precondition(authenticator.count == Limits.wireAuthenticatorBytes, "authenticator of \(authenticator.count)")
            head.writeInteger(BlobOpcode.authenticate.rawValue)
            head.writeBytes(authenticator)
        case .ping:
            head.writeInteger(BlobOpcode.ping.rawValue)
        case .put(let chunkID, let checksum, let bytes):
            precondition(bytes.readableBytes <= Limits.chunkSizeBytesMax, "put of \(bytes.readableBytes) bytes")
            head.writeInteger(BlobOpcode.put.rawValue)
            Self.writeChunkID(chunkID, into: &head)
            head.writeInteger(checksum)
            tail = bytes
        case .get(let chunkID, let offset, let length):
            precondition((0...Limits.chunkSizeBytesMax).contains(offset), "get offset \(offset)")
            precondition((0...Limits.chunkSizeBytesMax).contains(length), "get length \(length)")
            head.writeInteger(BlobOpcode.get.rawValue)
            Self.writeChunkID(chunkID, into: &head)
            head.writeInteger(UInt32(offset))
            head.writeInteger(UInt32(length))
        case .delete(let chunkIDs):
            precondition(chunkIDs.count <= Limits.wireDeleteChunkIDsMax, "delete of \(chunkIDs.count) ids")
            head.writeInteger(BlobOpcode.delete.rawValue)
            Self.writeChunkIDs(chunkIDs, into: &head)
        case .chunks(let writtenBeforeTime, let after, let limit):
            precondition((0...Limits.sweepListLimitMax).contains(limit), "chunks limit \(limit)")
            head.writeInteger(BlobOpcode.chunks.rawValue)
            head.writeInteger(writtenBeforeTime)
            head.writeInteger(UInt8(after == nil ? 0 : 1))
            Self.writeChunkID(after ?? 0, into: &head)
            head.writeInteger(UInt32(limit))
        case .stat:
            head.writeInteger(BlobOpcode.stat.rawValue)
        }
        return Self.finishFrame(head: head, tail: tail)
    }

    /// Encodes `reply` as the answer to `requestID`. A get's bytes stay in their own buffer. Error messages
    /// longer than `Limits.wireErrorMessageBytesMax` are cut.
    static func encode(_ reply: BlobReply, requestID: UInt64, allocator: ByteBufferAllocator) -> EncodedFrame {
        var head = Self.startFrame(requestID: requestID, allocator: allocator)
        var tail: ByteBuffer?
        switch reply {
        case .challenge(let nonce):
            precondition(nonce.count == Limits.wireNonceBytes, "nonce of \(nonce.count) bytes")
            head.writeInteger(BlobOpcode.challenge.rawValue)
            head.writeBytes(nonce)
        case .ok:
            head.writeInteger(BlobOpcode.ok.rawValue)
        case .bytes(let checksum, let bytes):
            precondition(bytes.readableBytes <= Limits.chunkSizeBytesMax, "reply of \(bytes.readableBytes) bytes")
            head.writeInteger(BlobOpcode.bytes.rawValue)
            head.writeInteger(checksum)
            tail = bytes
        case .chunkList(let chunkIDs):
            precondition(chunkIDs.count <= Limits.sweepListLimitMax, "chunk list of \(chunkIDs.count) ids")
            head.writeInteger(BlobOpcode.chunkList.rawValue)
            Self.writeChunkIDs(chunkIDs, into: &head)
        case .status(let status):
            precondition(status.chunkCount >= 0, "chunk count \(status.chunkCount)")
            head.writeInteger(BlobOpcode.status.rawValue)
            head.writeInteger(status.nodeID)
            head.writeInteger(status.freeBytes)
            head.writeInteger(UInt64(status.chunkCount))
        case .failure(let error):
            head.writeInteger(BlobOpcode.failure.rawValue)
            Self.writeError(error, into: &head)
        }
        return Self.finishFrame(head: head, tail: tail)
    }

    private static func startFrame(requestID: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var head = allocator.buffer(capacity: Limits.wireLengthPrefixBytes + Limits.wireFrameHeaderBytesMax)
        head.writeInteger(UInt32(0))  // the length, set by `finishFrame`
        head.writeInteger(Limits.wireVersion)
        head.writeInteger(requestID)
        return head
    }

    private static func finishFrame(head: ByteBuffer, tail: ByteBuffer?) -> EncodedFrame {
        var head = head
        let bodyBytes = head.readableBytes - Limits.wireLengthPrefixBytes + (tail?.readableBytes ?? 0)
        precondition(bodyBytes <= Limits.wireFrameBytesMax, "frame body of \(bodyBytes) bytes")
        head.setInteger(UInt32(bodyBytes), at: head.readerIndex)
        return EncodedFrame(head: head, tail: tail)
    }

    private static func writeChunkID(_ chunkID: UInt128, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt64(truncatingIfNeeded: chunkID >> 64))
        buffer.writeInteger(UInt64(truncatingIfNeeded: chunkID))
    }

    private static func writeChunkIDs(_ chunkIDs: [UInt128], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: 4 + 16 * chunkIDs.count)
        buffer.writeInteger(UInt32(chunkIDs.count))
        for chunkID in chunkIDs { Self.writeChunkID(chunkID, into: &buffer) }
    }

    private static func writeError(_ error: BlobError, into buffer: inout ByteBuffer) {
        switch error {
        case .chunkNotFound(let chunkID):
            buffer.writeInteger(WireErrorCode.chunkNotFound.rawValue)
            Self.writeChunkID(chunkID, into: &buffer)
        case .checksumMismatch(let chunkID):
            buffer.writeInteger(WireErrorCode.checksumMismatch.rawValue)
            Self.writeChunkID(chunkID, into: &buffer)
        case .rangeOutOfBounds(let chunkID):
            buffer.writeInteger(WireErrorCode.rangeOutOfBounds.rawValue)
            Self.writeChunkID(chunkID, into: &buffer)
        case .conflictingRewrite(let chunkID):
            buffer.writeInteger(WireErrorCode.conflictingRewrite.rawValue)
            Self.writeChunkID(chunkID, into: &buffer)
        case .diskFull(let message):
            buffer.writeInteger(WireErrorCode.diskFull.rawValue)
            Self.writeMessage(message, into: &buffer)
        case .io(let message):
            buffer.writeInteger(WireErrorCode.io.rawValue)
            Self.writeMessage(message, into: &buffer)
        case .invalidOptions(let message):
            buffer.writeInteger(WireErrorCode.invalidOptions.rawValue)
            Self.writeMessage(message, into: &buffer)
        case .unavailable(let message):
            buffer.writeInteger(WireErrorCode.unavailable.rawValue)
            Self.writeMessage(message, into: &buffer)
        case .chunkTooLarge(let bytes, let max):
            buffer.writeInteger(WireErrorCode.chunkTooLarge.rawValue)
            buffer.writeInteger(UInt64(clamping: bytes))
            buffer.writeInteger(UInt64(clamping: max))
        }
    }

    private static func writeMessage(_ message: String, into buffer: inout ByteBuffer) {
        let bytes = Self.truncatedUTF8(message, bytesMax: Limits.wireErrorMessageBytesMax)
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    /// The first bytes of `text`'s UTF-8, at most `bytesMax`, cut before a continuation byte so the cut
    /// never splits a character.
    static func truncatedUTF8(_ text: String, bytesMax: Int) -> ArraySlice<UInt8> {
        let utf8 = Array(text.utf8)
        guard utf8.count > bytesMax else { return utf8[...] }
        var end = bytesMax
        while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }
        return utf8[..<end]
    }

    // MARK: Decoding

    /// Reads one whole request frame from the front of `buffer`, or returns nil (reading nothing) while it is
    /// not all there. A put's bytes are a slice of `buffer`'s storage, not a copy.
    /// Throws as soon as the length prefix is too large, before buffering the frame.
    /// `frameBytesMax` is `Limits.wireHandshakeFrameBytesMax` for a connection's first frame.
    static func decodeRequest(
        _ buffer: inout ByteBuffer, frameBytesMax: Int = Limits.wireFrameBytesMax
    ) throws(BlobWireError) -> BlobFrame<BlobRequest>? {
        guard var body = try Self.nextFrameBody(&buffer, frameBytesMax: frameBytesMax) else { return nil }
        let (requestID, opcode) = try Self.readFixedHeader(&body)
        let request: BlobRequest
        switch opcode {
        case .authenticate:
            request = .authenticate(authenticator: try Self.readBytes(&body, count: Limits.wireAuthenticatorBytes))
        case .ping:
            request = .ping
        case .put:
            let chunkID = try Self.readChunkID(&body)
            let checksum = try Self.readInteger(&body, as: UInt32.self)
            // The frame bound leaves a little room past the largest chunk; a client never sends more.
            guard body.readableBytes <= Limits.chunkSizeBytesMax else {
                throw .malformed("put of \(body.readableBytes) bytes")
            }
            request = .put(chunkID: chunkID, checksum: checksum, bytes: body.readSlice(length: body.readableBytes)!)
        case .get:
            let chunkID = try Self.readChunkID(&body)
            let offset = try Self.readBounded(&body, max: Limits.chunkSizeBytesMax, field: "get offset")
            let length = try Self.readBounded(&body, max: Limits.chunkSizeBytesMax, field: "get length")
            request = .get(chunkID: chunkID, offset: offset, length: length)
        case .delete:
            request = .delete(chunkIDs: try Self.readChunkIDs(&body, countMax: Limits.wireDeleteChunkIDsMax))
        case .chunks:
            let writtenBeforeTime = try Self.readInteger(&body, as: Int64.self)
            let hasAfter = try Self.readInteger(&body, as: UInt8.self)
            guard hasAfter <= 1 else { throw .malformed("chunks has-after flag \(hasAfter)") }
            let after = try Self.readChunkID(&body)
            let limit = try Self.readBounded(&body, max: Limits.sweepListLimitMax, field: "chunks limit")
            request = .chunks(writtenBeforeTime: writtenBeforeTime, after: hasAfter == 1 ? after : nil, limit: limit)
        case .stat:
            request = .stat
        case .challenge, .ok, .bytes, .chunkList, .status, .failure:
            throw .unknownOpcode(opcode.rawValue)
        }
        try Self.expectEnd(body, opcode: opcode)
        return BlobFrame(requestID: requestID, message: request)
    }

    /// Reads one whole reply frame from the front of `buffer`, or returns nil (reading nothing) while it is
    /// not all there. A get's bytes are a slice of `buffer`'s storage, not a copy.
    /// `frameBytesMax` is `Limits.wireHandshakeFrameBytesMax` for a connection's first frame.
    static func decodeReply(
        _ buffer: inout ByteBuffer, frameBytesMax: Int = Limits.wireFrameBytesMax
    ) throws(BlobWireError) -> BlobFrame<BlobReply>? {
        guard var body = try Self.nextFrameBody(&buffer, frameBytesMax: frameBytesMax) else { return nil }
        let (requestID, opcode) = try Self.readFixedHeader(&body)
        let reply: BlobReply
        switch opcode {
        case .challenge:
            reply = .challenge(nonce: try Self.readBytes(&body, count: Limits.wireNonceBytes))
        case .ok:
            reply = .ok
        case .bytes:
            let checksum = try Self.readInteger(&body, as: UInt32.self)
            guard body.readableBytes <= Limits.chunkSizeBytesMax else {
                throw .malformed("reply of \(body.readableBytes) bytes")
            }
            reply = .bytes(checksum: checksum, bytes: body.readSlice(length: body.readableBytes)!)
        case .chunkList:
            reply = .chunkList(try Self.readChunkIDs(&body, countMax: Limits.sweepListLimitMax))
        case .status:
            let nodeID = try Self.readInteger(&body, as: UInt32.self)
            let freeBytes = try Self.readInteger(&body, as: UInt64.self)
            let count = try Self.readInteger(&body, as: UInt64.self)
            guard let chunkCount = Int(exactly: count) else {
                throw .malformed("status chunk count \(count)")
            }
            reply = .status(BlobNodeStatus(nodeID: nodeID, freeBytes: freeBytes, chunkCount: chunkCount))
        case .failure:
            reply = .failure(try Self.readError(&body))
        case .authenticate, .ping, .put, .get, .delete, .chunks, .stat:
            throw .unknownOpcode(opcode.rawValue)
        }
        try Self.expectEnd(body, opcode: opcode)
        return BlobFrame(requestID: requestID, message: reply)
    }

    /// The body of the next frame, taken from `buffer`, or nil (reading nothing) while it is incomplete.
    private static func nextFrameBody(_ buffer: inout ByteBuffer, frameBytesMax: Int) throws(BlobWireError) -> ByteBuffer? {
        precondition(frameBytesMax >= 0 && frameBytesMax <= Limits.wireFrameBytesMax, "frameBytesMax \(frameBytesMax)")
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        // Compared as UInt64: no conversion of a peer's number can trap, on any word size.
        guard UInt64(length) <= UInt64(frameBytesMax) else { throw .frameTooLarge(bytes: UInt64(length)) }
        let bodyBytes = Int(length)
        guard buffer.readableBytes - Limits.wireLengthPrefixBytes >= bodyBytes else { return nil }
        buffer.moveReaderIndex(forwardBy: Limits.wireLengthPrefixBytes)
        return buffer.readSlice(length: bodyBytes)!
    }

    private static func readFixedHeader(_ body: inout ByteBuffer) throws(BlobWireError) -> (UInt64, BlobOpcode) {
        guard body.readableBytes >= Self.fixedHeaderBytes else {
            throw .malformed("frame of \(body.readableBytes) bytes, shorter than its header")
        }
        let version = body.readInteger(as: UInt8.self)!
        guard version == Limits.wireVersion else { throw .unsupportedVersion(version) }
        let requestID = body.readInteger(as: UInt64.self)!
        let rawOpcode = body.readInteger(as: UInt8.self)!
        guard let opcode = BlobOpcode(rawValue: rawOpcode) else { throw .unknownOpcode(rawOpcode) }
        return (requestID, opcode)
    }

    private static func readInteger<T: FixedWidthInteger>(
        _ body: inout ByteBuffer, as type: T.Type
    ) throws(BlobWireError) -> T {
        guard let value = body.readInteger(as: T.self) else {
            throw .malformed("frame ends inside a \(MemoryLayout<T>.size)-byte field")
        }
        return value
    }

    /// A `UInt32` field that must be at most `max`, as an `Int`.
    private static func readBounded(_ body: inout ByteBuffer, max: Int, field: String) throws(BlobWireError) -> Int {
        let value = try Self.readInteger(&body, as: UInt32.self)
        guard UInt64(value) <= UInt64(max) else { throw .malformed("\(field) \(value) > \(max)") }
        return Int(value)
    }

    private static func readBytes(_ body: inout ByteBuffer, count: Int) throws(BlobWireError) -> [UInt8] {
        guard let bytes = body.readBytes(length: count) else {
            throw .malformed("frame ends inside a \(count)-byte field")
        }
        return bytes
    }

    private static func readChunkID(_ body: inout ByteBuffer) throws(BlobWireError) -> UInt128 {
        let high = try Self.readInteger(&body, as: UInt64.self)
        let low = try Self.readInteger(&body, as: UInt64.self)
        return UInt128(high) << 64 | UInt128(low)
    }

    /// A count (at most `countMax`) and exactly that many ids.
    private static func readChunkIDs(_ body: inout ByteBuffer, countMax: Int) throws(BlobWireError) -> [UInt128] {
        let count = try Self.readBounded(&body, max: countMax, field: "chunk id count")
        // `count` ≤ countMax, so `16 * count` cannot overflow.
        guard body.readableBytes == 16 * count else {
            throw .malformed("\(count) chunk ids in \(body.readableBytes) bytes")
        }
        var chunkIDs: [UInt128] = []
        chunkIDs.reserveCapacity(count)
        for _ in 0..<count { chunkIDs.append(try Self.readChunkID(&body)) }
        return chunkIDs
    }

    private static func readError(_ body: inout ByteBuffer) throws(BlobWireError) -> BlobError {
        let rawCode = try Self.readInteger(&body, as: UInt8.self)
        guard let code = WireErrorCode(rawValue: rawCode) else { throw .malformed("error code \(rawCode)") }
        switch code {
        case .chunkNotFound: return .chunkNotFound(try Self.readChunkID(&body))
        case .checksumMismatch: return .checksumMismatch(try Self.readChunkID(&body))
        case .rangeOutOfBounds: return .rangeOutOfBounds(try Self.readChunkID(&body))
        case .conflictingRewrite: return .conflictingRewrite(try Self.readChunkID(&body))
        case .diskFull: return .diskFull(try Self.readMessage(&body))
        case .io: return .io(try Self.readMessage(&body))
        case .invalidOptions: return .invalidOptions(try Self.readMessage(&body))
        case .unavailable: return .unavailable(try Self.readMessage(&body))
        case .chunkTooLarge:
            let bytes = try Self.readInteger(&body, as: UInt64.self)
            let max = try Self.readInteger(&body, as: UInt64.self)
            guard let bytes = Int(exactly: bytes), let max = Int(exactly: max) else {
                throw .malformed("chunkTooLarge sizes \(bytes), \(max)")
            }
            return .chunkTooLarge(bytes: bytes, max: max)
        }
    }

    private static func readMessage(_ body: inout ByteBuffer) throws(BlobWireError) -> String {
        let length = try Self.readBounded(&body, max: Limits.wireErrorMessageBytesMax, field: "error message length")
        return String(decoding: try Self.readBytes(&body, count: length), as: UTF8.self)
    }

    private static func expectEnd(_ body: ByteBuffer, opcode: BlobOpcode) throws(BlobWireError) {
        guard body.readableBytes == 0 else {
            throw .malformed("\(body.readableBytes) bytes left over after a \(opcode) frame")
        }
    }

    // MARK: Checksums

    /// The CRC-32 (zlib's, as the volume records use) of the readable bytes of `bytes`.
    static func checksum(_ bytes: ByteBuffer) -> UInt32 {
        bytes.withUnsafeReadableBytes { crc32Update(0, $0) }
    }

    /// The bytes of a get reply, after checking them against the checksum the server sent and the length the
    /// client asked for.
    static func verifiedBytes(
        _ reply: BlobReply, chunkID: UInt128, length: Int
    ) throws(BlobError) -> ByteBuffer {
        switch reply {
        case .bytes(let checksum, let bytes):
            guard bytes.readableBytes == length else {
                throw .io("blob node answered \(bytes.readableBytes) bytes for a read of \(length)")
            }
            guard Self.checksum(bytes) == checksum else { throw .checksumMismatch(chunkID) }
            return bytes
        case .failure(let error):
            throw error
        case .challenge, .ok, .chunkList, .status:
            throw .io("blob node answered a read with \(reply.opcode)")
        }
    }
}

/// An encoded frame: `head` holds the length prefix and the fixed fields, `tail` the chunk bytes that follow
/// (a put or a get reply), kept in their own buffer so they are written without a copy.
struct EncodedFrame {
    var head: ByteBuffer
    var tail: ByteBuffer?

    /// The whole frame in one buffer (tests, seeds).
    var joined: ByteBuffer {
        var whole = self.head
        if var tail { whole.writeBuffer(&tail) }
        return whole
    }
}

/// One decoded frame: the request id it belongs to and its message.
struct BlobFrame<Message: Sendable & Equatable>: Sendable, Equatable {
    var requestID: UInt64
    var message: Message
}

/// The opcodes of the chunk protocol (see `BlobWire`). Requests below 0x40, replies from 0x40.
enum BlobOpcode: UInt8, Sendable, CustomStringConvertible {
    case authenticate = 0x01
    case ping = 0x02
    case put = 0x03
    case get = 0x04
    case delete = 0x05
    case chunks = 0x06
    case stat = 0x07
    case challenge = 0x40
    case ok = 0x41
    case bytes = 0x42
    case chunkList = 0x43
    case status = 0x44
    case failure = 0x45

    var description: String {
        switch self {
        case .authenticate: "authenticate"
        case .ping: "ping"
        case .put: "put"
        case .get: "get"
        case .delete: "delete"
        case .chunks: "chunks"
        case .stat: "stat"
        case .challenge: "challenge"
        case .ok: "ok"
        case .bytes: "bytes"
        case .chunkList: "chunk list"
        case .status: "status"
        case .failure: "failure"
        }
    }
}

/// The `BlobError` cases on the wire, one code each; the message text and ids travel with them.
enum WireErrorCode: UInt8, Sendable {
    case chunkNotFound = 1
    case checksumMismatch = 2
    case rangeOutOfBounds = 3
    case diskFull = 4
    case io = 5
    case invalidOptions = 6
    case chunkTooLarge = 7
    case conflictingRewrite = 8
    case unavailable = 9
}

/// A request a client sends (see `BlobWire` for the fields).
enum BlobRequest: Sendable, Equatable {
    case authenticate(authenticator: [UInt8])
    case ping
    case put(chunkID: UInt128, checksum: UInt32, bytes: ByteBuffer)
    case get(chunkID: UInt128, offset: Int, length: Int)
    case delete(chunkIDs: [UInt128])
    case chunks(writtenBeforeTime: Int64, after: UInt128?, limit: Int)
    case stat
}

/// A frame the server sends: the challenge, or the answer to one request.
enum BlobReply: Sendable, Equatable {
    case challenge(nonce: [UInt8])
    case ok
    case bytes(checksum: UInt32, bytes: ByteBuffer)
    case chunkList([UInt128])
    case status(BlobNodeStatus)
    case failure(BlobError)

    var opcode: BlobOpcode {
        switch self {
        case .challenge: .challenge
        case .ok: .ok
        case .bytes: .bytes
        case .chunkList: .chunkList
        case .status: .status
        case .failure: .failure
        }
    }
}

/// Why a frame of the chunk protocol was refused. The reader closes the connection: after a bad frame the
/// byte stream cannot be trusted to be in step.
enum BlobWireError: Error, Sendable, Equatable {
    /// A length prefix above `Limits.wireFrameBytesMax`.
    case frameTooLarge(bytes: UInt64)
    case unsupportedVersion(UInt8)
    /// An opcode this protocol does not have, or one that does not go in this direction.
    case unknownOpcode(UInt8)
    /// A field out of bounds, or bytes missing or left over.
    case malformed(String)
}

/// What a blob node says about itself (`RemoteChunkStore.stat()`).
public struct BlobNodeStatus: Sendable, Equatable {
    /// The node's id (`silo blob --id`), the id the ring places chunks on.
    public var nodeID: UInt32
    /// Free bytes on the filesystem of the node's store (before its reserved floor is taken off).
    public var freeBytes: UInt64
    /// Chunks the store can read.
    public var chunkCount: Int

    public init(nodeID: UInt32, freeBytes: UInt64, chunkCount: Int) {
        self.nodeID = nodeID
        self.freeBytes = freeBytes
        self.chunkCount = chunkCount
    }
}

/// Splits the bytes a server reads into request frames (`BlobWire.decodeRequest`). The first frame (the
/// answer to the challenge) may have at most `Limits.wireHandshakeFrameBytesMax` bytes.
struct BlobRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = BlobFrame<BlobRequest>
    private var frameBytesMax = Limits.wireHandshakeFrameBytesMax

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try BlobWire.decodeRequest(&buffer, frameBytesMax: self.frameBytesMax) else {
            return .needMoreData
        }
        // The handler closes the connection if this first frame does not authenticate it.
        self.frameBytesMax = Limits.wireFrameBytesMax
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF goes with the connection; its client gets no answer and fails it.
        try self.decode(context: context, buffer: &buffer)
    }
}

/// Splits the bytes a client reads into reply frames (`BlobWire.decodeReply`). The first frame (the
/// challenge) may have at most `Limits.wireHandshakeFrameBytesMax` bytes.
struct BlobReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = BlobFrame<BlobReply>
    private var frameBytesMax = Limits.wireHandshakeFrameBytesMax

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try BlobWire.decodeReply(&buffer, frameBytesMax: self.frameBytesMax) else {
            return .needMoreData
        }
        self.frameBytesMax = Limits.wireFrameBytesMax
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}
