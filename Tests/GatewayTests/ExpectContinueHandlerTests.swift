@testable import Gateway
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// Goal: `ExpectContinueHandler` sends `100 Continue` only when the client asked for it and the responder
/// allowed it, and closes a connection whose response finished before its request body.
/// Method: drive the handler on an `EmbeddedChannel` with HTTP parts and read what it writes.
@Suite struct ExpectContinueHandlerTests {
    func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ExpectContinueHandler())
        // An embedded channel is inactive until connected; the close test must start from an open one.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9000)).wait()
        #expect(channel.isActive)
        return channel
    }

    func head(expectContinue: Bool) -> HTTPRequestPart {
        var request = HTTPRequest(method: .put, scheme: "http", authority: "localhost", path: "/b/k")
        if expectContinue { request.headerFields[.expect] = "100-continue" }
        return .head(request)
    }

    @Test func sendsContinueWhenAskedAndAllowed() throws {
        let channel = try makeChannel()
        try channel.writeInbound(head(expectContinue: true))
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)  // not before the responder allows
        channel.pipeline.triggerUserOutboundEvent(SendContinueEvent(), promise: nil)
        let part = try #require(try channel.readOutbound(as: HTTPResponsePart.self))
        guard case .head(let response) = part else {
            Issue.record("expected a head, got \(part)")
            return
        }
        #expect(response.status == .continue)
        // Only once.
        channel.pipeline.triggerUserOutboundEvent(SendContinueEvent(), promise: nil)
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
    }

    @Test func noContinueWithoutExpect() throws {
        let channel = try makeChannel()
        try channel.writeInbound(head(expectContinue: false))
        channel.pipeline.triggerUserOutboundEvent(SendContinueEvent(), promise: nil)
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
    }

    func responseHead(_ channel: EmbeddedChannel) throws -> HTTPResponse? {
        guard case .head(let response)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        return response
    }

    /// An error answered while the client still waits for 100 Continue: `Connection: close`, closed at once.
    @Test func closesAtOnceWhenTheClientNeverSentTheBody() throws {
        let channel = try makeChannel()
        try channel.writeInbound(head(expectContinue: true))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .forbidden)))
        #expect(try responseHead(channel)?.headerFields[.connection] == "close")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    /// An error answered while the body is still arriving: `Connection: close`, but the connection stays
    /// open until the whole body has been read (closing under unread data would reset it).
    @Test func closesAfterTheBodyWhenTheBodyWasStillComing() throws {
        let channel = try makeChannel()
        try channel.writeInbound(head(expectContinue: false))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "first bytes")))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .badRequest)))
        #expect(try responseHead(channel)?.headerFields[.connection] == "close")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.run()
        #expect(channel.isActive)
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "the rest")))
        #expect(channel.isActive)
        try channel.writeInbound(HTTPRequestPart.end(nil))
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    /// An error answered early under a body larger than the drain bound: a lingering close. The answer is
    /// followed by a half-close, what still arrives is dropped (not passed on), and the connection closes
    /// only after `lingerCloseTimeout`, so a reset cannot discard an answer the client has not read yet.
    @Test func lingersAfterGivingUpTheDrain() throws {
        let channel = EmbeddedChannel()
        let halfClose = HalfCloseRecorder()
        try channel.pipeline.syncOperations.addHandler(halfClose)
        try channel.pipeline.syncOperations.addHandler(
            ExpectContinueHandler(drainBytesMax: 16, lingerTimeout: .seconds(10), lingerCloseTimeout: .seconds(2)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9000)).wait()
        var request = HTTPRequest(method: .put, scheme: "http", authority: "localhost", path: "/b/k")
        request.headerFields[.contentLength] = "1000000"
        try channel.writeInbound(HTTPRequestPart.head(request))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) != nil)
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .notFound)))
        #expect(try responseHead(channel)?.headerFields[.connection] == "close")
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) != nil)  // the end, written at once
        #expect(halfClose.outputClosed)
        #expect(channel.isActive)
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(repeating: 0x78, count: 4096)))
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil)  // dropped
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test func keepsConnectionWhenRequestWasComplete() throws {
        let channel = try makeChannel()
        try channel.writeInbound(head(expectContinue: false))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        #expect(try responseHead(channel)?.headerFields[.connection] == nil)
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        channel.embeddedEventLoop.run()
        #expect(channel.isActive)
        _ = try channel.finish()
    }
}

/// An `EmbeddedChannel` closes fully on any close; this handler stands for a socket's `shutdown(SHUT_WR)`:
/// it records a close of the output only and lets every other close through.
final class HalfCloseRecorder: ChannelOutboundHandler {
    typealias OutboundIn = Any
    private(set) var outputClosed = false

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output {
            outputClosed = true
            promise?.succeed()
        } else {
            context.close(mode: mode, promise: promise)
        }
    }
}
