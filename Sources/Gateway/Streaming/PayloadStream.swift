import Hummingbird
import NIOCore
import S3Protocol
import Synchronization

/// A request's payload as the handlers want it: the object bytes, with aws-chunked framing removed and
/// every chunk signature checked (in streaming modes), and the trailers once the body has ended.
///
/// Promises: yields exactly the decoded payload or throws (`AWSChunkedError`: bad signature, short body,
/// framing); `trailers` is filled only after the sequence returned nil.
struct PayloadStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let raw: RequestBody
    let decoder: AWSChunkedDecoder?
    /// The payload length the client declared (`x-amz-decoded-content-length` in streaming modes,
    /// `Content-Length` otherwise), if any.
    let declaredLength: Int64?
    private let trailerBox = TrailerBox()

    var trailers: [(name: String, value: String)] { trailerBox.value.withLock { $0 } }

    init(call: S3Call) throws {
        try self.init(body: call.signedBody)
    }

    init(body: SignedBody) throws {
        self.raw = body.raw
        if body.verified.payloadHash.isStreaming {
            guard let declared = body.header("x-amz-decoded-content-length").flatMap(Self.length) else {
                throw S3Error(.missingContentLength, "aws-chunked uploads need x-amz-decoded-content-length.")
            }
            self.decoder = AWSChunkedDecoder(verified: body.verified, decodedContentLength: declared)
            self.declaredLength = declared
        } else {
            self.decoder = nil
            self.declaredLength = body.headers[.contentLength].flatMap(Self.length)
        }
    }

    /// A declared length: decimal digits only (no sign, no spaces), at most 18 of them, so it is never
    /// negative and any sum with a real body size stays inside Int64.
    static func length(_ text: String) -> Int64? {
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int64(text)
    }

    final class TrailerBox: Sendable {
        let value = Mutex<[(name: String, value: String)]>([])
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var raw: RequestBody.AsyncIterator
        var decoder: AWSChunkedDecoder?
        let trailerBox: TrailerBox
        var ready: [ByteBuffer] = []
        var readyIndex = 0
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            guard decoder != nil else { return try await raw.next() }
            while readyIndex == ready.count {
                if finished { return nil }
                ready.removeAll(keepingCapacity: true)
                readyIndex = 0
                if let buffer = try await raw.next() {
                    ready = try decoder!.feed(buffer).filter { $0.readableBytes > 0 }
                } else {
                    finished = true
                    let trailers = try decoder!.finish()
                    trailerBox.value.withLock { $0 = trailers }
                }
            }
            defer { readyIndex += 1 }
            return ready[readyIndex]
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(raw: raw.makeAsyncIterator(), decoder: decoder, trailerBox: trailerBox)
    }
}
