import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sent down the pipeline by the responder once a request passed authentication: if the client asked
/// for `Expect: 100-continue` and is still waiting, it now gets its `100 Continue`.
struct SendContinueEvent: Sendable {}

/// A channel handler for the two HTTP/1.1 details Hummingbird leaves to the application.
///
/// 1. `Expect: 100-continue`: S3 clients (boto3, the AWS CLI) wait up to a second for `100 Continue`
///    before sending a body. S3 answers it only after the headers and the signature were checked, so the
///    handler does not answer on its own: it waits for `SendContinueEvent` from the responder.
/// 2. A response finished before its request body was (an error answered early, or a client that asked
///    for 100-continue and never got it): the connection is closed after the response, so the server
///    never waits to drain a body the client will not send (or that is gigabytes long).
///
/// It sits after the HTTP codec, and sees every request and response part of one connection in order.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Invariant: `awaitingContinue` implies `!requestBodyEnded`.
    private var awaitingContinue = false
    private var requestBodyEnded = true

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestBodyEnded = false
            awaitingContinue = head.headerFields[.expect]?.lowercased() == "100-continue"
        case .body:
            awaitingContinue = false
        case .end:
            requestBodyEnded = true
            awaitingContinue = false
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is SendContinueEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if awaitingContinue {
            awaitingContinue = false
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: promise)
        } else {
            promise?.succeed()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data), !requestBodyEnded else {
            context.write(data, promise: promise)
            return
        }
        // The response is complete but the request body is not: close rather than drain it.
        awaitingContinue = false
        context.writeAndFlush(data).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        promise?.succeed()
    }
}
