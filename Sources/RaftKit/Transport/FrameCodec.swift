public import NIOCore

/// Errors of the transport's wire format.
public enum TransportError: Error, Sendable, Equatable {
    /// A frame header announced more than `TransportLimits.framePayloadBytesMax` bytes.
    case frameTooLarge(bytes: Int)
    /// The transport was shut down.
    case shutDown
}

/// The wire format of a frame: `[payload length u32][sender ID u64][payload]`, big-endian. Pure: the NIO
/// handlers call it, and tests call it directly with buffers split at every byte.
public enum FrameCodec {
    /// Bytes before the payload.
    public static let headerBytes = 12

    /// Appends one frame to `buffer`.
    public static func encode(_ frame: TransportFrame, into buffer: inout ByteBuffer) {
        precondition(frame.payload.count <= TransportLimits.framePayloadBytesMax, "frame of \(frame.payload.count) bytes")
        buffer.writeInteger(UInt32(frame.payload.count))
        buffer.writeInteger(frame.from)
        buffer.writeBytes(frame.payload)
    }

    /// Reads one whole frame from the front of `buffer`, or returns nil (reading nothing) when it is not all there.
    /// Throws `.frameTooLarge` as soon as a header announces too many bytes, before buffering them.
    public static func decode(_ buffer: inout ByteBuffer) throws(TransportError) -> TransportFrame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard Int(length) <= TransportLimits.framePayloadBytesMax else { throw .frameTooLarge(bytes: Int(length)) }
        guard buffer.readableBytes >= headerBytes + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let from = buffer.readInteger(as: UInt64.self)!
        let payload = buffer.readBytes(length: Int(length))!
        return TransportFrame(from: from, payload: payload)
    }
}

/// Splits a TCP byte stream into frames (`FrameCodec`), with the maximum frame size enforced. Also the framing
/// of the metadata RPC (`MetaQuorum`), whose frames carry a request id where Raft's carry the sender.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = TransportFrame

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameCodec.decode(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial frame at EOF is dropped with the connection: the sender will retry what Raft needs.
        try decode(context: context, buffer: &buffer)
    }
}
