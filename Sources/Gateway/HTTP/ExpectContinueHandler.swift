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
///    connection whose request stream is out of step. Draining is bounded: when more than
///    `drainBytesMax` body bytes are still to come (or arrive), or `lingerTimeout` passes, the response
///    is followed by a half-close (FIN), what still arrives is dropped for `lingerCloseTimeout` (a
///    lingering close: closing with unread bytes would reset the connection and discard the answer the
///    client has not read yet), and the connection is closed, so neither a slow nor a fast client keeps it.
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
    /// `Content-Length` of the current request, if it has one, and the body bytes seen so far.
    private var declaredBodyBytes: Int64?
    private var receivedBodyBytes: Int64 = 0
    /// Body bytes that arrived after an early response ended (they are drained, up to the limit).
    private var drainedBodyBytes: Int64 = 0
    private var lingerDeadline: Scheduled<Void>?
    /// Output is half-closed after an abandoned drain: inbound bytes are dropped until the close.
    private var lingeringClose = false
    private let drainBytesMax: Int64
    private let lingerTimeout: TimeAmount
    private let lingerCloseTimeout: TimeAmount

    init(drainBytesMax: Int64 = ConnectionLimits().drainBytesMax,
         lingerTimeout: TimeAmount = ConnectionLimits().lingerTimeout,
         lingerCloseTimeout: TimeAmount = ConnectionLimits().lingerCloseTimeout) {
        self.drainBytesMax = drainBytesMax
        self.lingerTimeout = lingerTimeout
        self.lingerCloseTimeout = lingerCloseTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingeringClose {
            // Dropped, and read on whatever the application's back-pressure says: the answer is out.
            context.read()
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestBodyEnded = false
            responseEnded = false
            awaitingContinue = head.headerFields[.expect]?.lowercased() == "100-continue"
            declaredBodyBytes = head.headerFields[.contentLength].flatMap { Int64($0) }
            receivedBodyBytes = 0
        case .body(let buffer):
            awaitingContinue = false
            receivedBodyBytes += Int64(buffer.readableBytes)
            if responseEnded && closing == .afterRequestBody {
                drainedBodyBytes += Int64(buffer.readableBytes)
                if drainedBodyBytes > drainBytesMax {
                    giveUpDraining(context: context)
                    return
                }
            }
        case .end:
            requestBodyEnded = true
            awaitingContinue = false
        }
        context.fireChannelRead(data)
        if requestBodyEnded && responseEnded && closing == .afterRequestBody {
            lingerDeadline?.cancel()
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        lingerDeadline?.cancel()
        lingerDeadline = nil
        context.fireChannelInactive()
    }

    /// The client will not get to the end of its body soon enough: tell it we are done (FIN after the
    /// response it already has), drop what still arrives for `lingerCloseTimeout`, then close.
    private func giveUpDraining(context: ChannelHandlerContext) {
        lingerDeadline?.cancel()
        lingerDeadline = nil
        guard !lingeringClose else { return }
        lingeringClose = true
        closing = .afterResponse
        context.close(mode: .output, promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        lingerDeadline = context.eventLoop.scheduleTask(in: lingerCloseTimeout) {
            bound.value.close(promise: nil)
        }
        context.read()
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
            if closeNow {
                context.close(promise: nil)
            } else if let declared = declaredBodyBytes, declared - receivedBodyBytes > drainBytesMax {
                giveUpDraining(context: context)
            } else {
                drainedBodyBytes = 0
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                lingerDeadline = context.eventLoop.scheduleTask(in: lingerTimeout) {
                    let (handler, context) = bound.value
                    handler.giveUpDraining(context: context)
                }
            }
        default:
            context.write(data, promise: promise)
        }
    }
}
