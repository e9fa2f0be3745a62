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
/// 2. A final response written before its request body ended (an error answered early) says
///    `Connection: close`, and the connection is closed: at once if the client is still waiting for
///    `100 Continue` (no body will come), else once the rest of the body has arrived (Hummingbird drains
///    it), so the client never has its connection reset under an unread body and never reuses a
///    connection whose request stream is out of step.
///
/// It sits after the HTTP codec and sees every request and response part of one connection in order.
final class ExpectContinueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Closing {
        case no
        /// Close as soon as the response's end is written.
        case afterResponse
        /// Close once both the response and the request body have ended.
        case afterRequestBody
    }

    /// Invariant: `awaitingContinue` implies `!requestBodyEnded`.
    private var awaitingContinue = false
    private var requestBodyEnded = true
    private var responseEnded = false
    private var closing = Closing.no

    init() {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestBodyEnded = false
            responseEnded = false
            awaitingContinue = head.headerFields[.expect]?.lowercased() == "100-continue"
        case .body:
            awaitingContinue = false
        case .end:
            requestBodyEnded = true
            awaitingContinue = false
        }
        context.fireChannelRead(data)
        if requestBodyEnded && responseEnded && closing == .afterRequestBody {
            context.close(promise: nil)
        }
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
        switch unwrapOutboundIn(data) {
        case .head(var response) where response.status.kind != .informational && !requestBodyEnded:
            response.headerFields[.connection] = "close"
            closing = awaitingContinue ? .afterResponse : .afterRequestBody
            awaitingContinue = false
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end where closing != .no:
            responseEnded = true
            let closeNow = closing == .afterResponse || requestBodyEnded
            context.writeAndFlush(data, promise: promise)
            if closeNow { context.close(promise: nil) }
        default:
            context.write(data, promise: promise)
        }
    }
}
