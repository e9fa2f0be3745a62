public import Hummingbird
public import NIOCore

/// The per-request context Hummingbird builds for each request: the logger and the connection's channel
/// (the responder uses the channel to send `100 Continue` once a request is authenticated).
public struct S3RequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
