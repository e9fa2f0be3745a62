import Crypto
public import NIOCore

/// Why an aws-chunked body was refused. The Gateway maps `.chunkSignatureMismatch` and
/// `.trailerSignatureMismatch` to `SignatureDoesNotMatch`, `.incompleteBody` to `IncompleteBody`,
/// `.decodedLengthMismatch` to `IncompleteBody` (short) or `InvalidRequest`, and the rest to `InvalidRequest`
/// / `MalformedTrailerError`.
public enum AWSChunkedError: Error, Sendable, Hashable {
    /// The framing is wrong: a bad size line, a missing CRLF, a trailer line without `:`.
    case malformedFraming(reason: String)
    /// A chunk header line is longer than `S3Limits.chunkHeaderLineBytesMax`.
    case chunkHeaderTooLong
    /// A chunk is larger than `S3Limits.chunkSizeBytesMax`.
    case chunkTooLarge(byteCount: Int64)
    /// A signed-mode chunk has no `chunk-signature` extension (or a malformed one).
    case missingChunkSignature(chunkIndex: Int)
    /// A chunk's signature does not match its data and the previous signature.
    case chunkSignatureMismatch(chunkIndex: Int)
    /// Signed-trailer mode and the trailers end without `x-amz-trailer-signature`.
    case missingTrailerSignature
    /// The trailer signature does not match.
    case trailerSignatureMismatch
    /// The trailer section exceeds `S3Limits.trailerBytesMax` or `S3Limits.trailerCountMax` lines.
    case trailerTooLarge
    /// The body ended before the final zero-size chunk (and its trailers) was complete.
    case incompleteBody
    /// The decoded byte count differs from `x-amz-decoded-content-length`.
    case decodedLengthMismatch(declared: Int64, decoded: Int64)
    /// Bytes follow the end of the aws-chunked body.
    case dataAfterEnd
}

/// The signing context of a signed aws-chunked body: chunk `n`'s signature is
/// `HMAC(signingKey, "AWS4-HMAC-SHA256-PAYLOAD\n<amzDate>\n<scope>\n<signature n-1>\n<sha256("")>\n<sha256(data n)>")`,
/// starting from the request's own signature (the seed); trailers are signed the same way with
/// `AWS4-HMAC-SHA256-TRAILER` and the hash of the canonical trailer lines.
public struct ChunkSigning: Sendable {
    /// The derived SigV4 signing key of the request.
    public var signingKey: SigV4SigningKey
    /// The request time, `20130524T000000Z`.
    public var amzDate: String
    /// The credential scope.
    public var scope: SigV4Scope
    /// The request's signature.
    public var seedSignature: String

    /// Creates a signing context.
    public init(signingKey: SigV4SigningKey, amzDate: String, scope: SigV4Scope, seedSignature: String) {
        self.signingKey = signingKey
        self.amzDate = amzDate
        self.scope = scope
        self.seedSignature = seedSignature
    }
}

/// An incremental decoder of `Content-Encoding: aws-chunked` bodies (`x-amz-content-sha256:
/// STREAMING-...`). Feed the body as it arrives, in buffers split anywhere; each `feed` returns the payload
/// bytes decoded so far (slices of the input, no copy). `finish()` at the end of the body returns the
/// trailers. Signed modes check every chunk signature as the chunk ends and the trailer signature.
///
/// Payload bytes are returned before their chunk's signature is checked (the decoder never buffers a chunk):
/// the caller must not commit anything until `finish()` returns, and must discard what it wrote when any
/// call throws. After a throw, every later call throws the same error.
public struct AWSChunkedDecoder: Sendable {
    private enum State: Sendable {
        case chunkHeader
        case chunkData(remaining: Int)
        case chunkDataEnd(consumed: Int)
        case trailer
        case done
    }

    private var state: State = .chunkHeader
    private var line: [UInt8] = []
    private var signing: ChunkSigning?
    private var previousSignature: String
    private var claimedSignature = ""
    private var chunkHasher = SendableDigest<SHA256>()
    private var chunkIndex = 0
    private let expectsTrailer: Bool
    private var trailers: [(name: String, value: String)] = []
    private var trailerByteCount = 0
    private var trailerSignatureVerified = false
    private var failure: AWSChunkedError?
    /// `x-amz-decoded-content-length`, if the request declared one.
    public let declaredLength: Int64?
    /// Payload bytes decoded so far.
    public private(set) var decodedLength: Int64 = 0

    /// A decoder for `signing` (nil: unsigned chunks) with or without trailers, checking the decoded length
    /// against `decodedContentLength` when given.
    public init(signing: ChunkSigning?, expectsTrailer: Bool, decodedContentLength: Int64?) {
        self.signing = signing
        self.previousSignature = signing?.seedSignature ?? ""
        self.expectsTrailer = expectsTrailer
        self.declaredLength = decodedContentLength
    }

    /// A decoder for a verified streaming request; its payload mode must be one of the streaming ones.
    public init(verified: VerifiedRequest, decodedContentLength: Int64?) {
        precondition(verified.payloadHash.isStreaming, "aws-chunked decoder for payload mode \(verified.payloadHash)")
        let signing: ChunkSigning? =
            verified.payloadHash == .streamingUnsignedTrailer
            ? nil
            : ChunkSigning(
                signingKey: verified.signingKey, amzDate: verified.amzDate, scope: verified.scope,
                seedSignature: verified.seedSignature)
        self.init(signing: signing, expectsTrailer: verified.payloadHash.hasTrailer, decodedContentLength: decodedContentLength)
    }

    /// Consumes `buffer` and returns the payload bytes it completed, in order (possibly none).
    public mutating func feed(_ buffer: ByteBuffer) throws(AWSChunkedError) -> [ByteBuffer] {
        if let failure { throw failure }
        var input = buffer
        var output: [ByteBuffer] = []
        do {
            while input.readableBytes > 0 {
                try step(&input, &output)
            }
        } catch {
            failure = error
            throw error
        }
        return output
    }

    /// Ends the body: throws unless the final chunk (and, with trailers, the trailer section) was complete
    /// and the decoded length matches. Returns the trailers (names lower-cased, without the signature line).
    public mutating func finish() throws(AWSChunkedError) -> [(name: String, value: String)] {
        if let failure { throw failure }
        do {
            try finishChecks()
        } catch {
            failure = error
            throw error
        }
        return trailers
    }

    private mutating func finishChecks() throws(AWSChunkedError) {
        switch state {
        case .done:
            break
        case .trailer where line.isEmpty:
            // Tolerate a body that ends without the last blank line.
            if signing != nil && expectsTrailer && !trailerSignatureVerified { throw .missingTrailerSignature }
            if signing == nil && expectsTrailer && trailers.isEmpty { throw .incompleteBody }
            state = .done
        default:
            throw .incompleteBody
        }
        if let declaredLength, declaredLength != decodedLength {
            throw .decodedLengthMismatch(declared: declaredLength, decoded: decodedLength)
        }
    }

    // MARK: The state machine

    private mutating func step(_ input: inout ByteBuffer, _ output: inout [ByteBuffer]) throws(AWSChunkedError) {
        switch state {
        case .chunkHeader:
            guard let header = try readLine(&input, limit: S3Limits.chunkHeaderLineBytesMax, tooLong: .chunkHeaderTooLong) else {
                return
            }
            try startChunk(header)
        case .chunkData(let remaining):
            let count = min(remaining, input.readableBytes)
            let slice = input.readSlice(length: count)!
            if signing != nil { slice.withUnsafeReadableBytes { chunkHasher.update($0) } }
            decodedLength += Int64(count)
            if let declaredLength, decodedLength > declaredLength {
                throw .decodedLengthMismatch(declared: declaredLength, decoded: decodedLength)
            }
            output.append(slice)
            state = remaining == count ? .chunkDataEnd(consumed: 0) : .chunkData(remaining: remaining - count)
        case .chunkDataEnd(let consumed):
            let byte = input.readInteger(as: UInt8.self)!
            let expected = consumed == 0 ? UInt8(ascii: "\r") : UInt8(ascii: "\n")
            guard byte == expected else { throw .malformedFraming(reason: "chunk \(chunkIndex) data not followed by CRLF") }
            if consumed == 0 {
                state = .chunkDataEnd(consumed: 1)
            } else {
                try endChunk()
                state = .chunkHeader
            }
        case .trailer:
            let limit = S3Limits.trailerBytesMax - trailerByteCount
            guard let trailerLine = try readLine(&input, limit: limit, tooLong: .trailerTooLarge) else { return }
            trailerByteCount += trailerLine.count + 2
            try handleTrailerLine(trailerLine)
        case .done:
            throw .dataAfterEnd
        }
    }

    /// Accumulates bytes up to a LF; returns the line without CRLF (or LF) once complete.
    private mutating func readLine(_ input: inout ByteBuffer, limit: Int, tooLong: AWSChunkedError) throws(AWSChunkedError) -> [UInt8]? {
        let view = input.readableBytesView
        if let newline = view.firstIndex(of: UInt8(ascii: "\n")) {
            let count = newline - view.startIndex
            guard line.count + count <= limit + 1 else { throw tooLong }
            line += input.readBytes(length: count)!
            input.moveReaderIndex(forwardBy: 1)
            var complete = line
            line = []
            if complete.last == UInt8(ascii: "\r") { complete.removeLast() }
            guard complete.count <= limit else { throw tooLong }
            return complete
        }
        guard line.count + view.count <= limit + 1 else { throw tooLong }
        line += input.readBytes(length: input.readableBytes)!
        return nil
    }

    private mutating func startChunk(_ header: [UInt8]) throws(AWSChunkedError) {
        let parts = header.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        let sizeText = parts[0]
        guard !sizeText.isEmpty, sizeText.count <= 16 else {
            throw .malformedFraming(reason: "chunk \(chunkIndex) size is not 1 to 16 hex digits")
        }
        var size: Int64 = 0
        for byte in sizeText {
            guard let digit = S3URIEncoding.hexValue(byte) else {
                throw .malformedFraming(reason: "chunk \(chunkIndex) size is not hex")
            }
            size = size << 4 | Int64(digit)
            guard size <= Int64(S3Limits.chunkSizeBytesMax) else { throw .chunkTooLarge(byteCount: size) }
        }
        claimedSignature = ""
        for extensionBytes in parts.dropFirst() {
            let text = String(decoding: extensionBytes, as: UTF8.self).trimmingSpaces()
            if text.hasPrefix("chunk-signature=") { claimedSignature = String(text.dropFirst("chunk-signature=".count)) }
        }
        if signing != nil {
            guard claimedSignature.utf8.count == 64, Hex.decode(claimedSignature) != nil else {
                throw .missingChunkSignature(chunkIndex: chunkIndex)
            }
        }
        chunkHasher = SendableDigest<SHA256>()
        if size == 0 {
            try verifyChunkSignature()
            state = .trailer
        } else {
            state = .chunkData(remaining: Int(size))
        }
    }

    private mutating func endChunk() throws(AWSChunkedError) {
        try verifyChunkSignature()
        chunkIndex += 1
    }

    private mutating func verifyChunkSignature() throws(AWSChunkedError) {
        guard let signing else { return }
        let toSign = "AWS4-HMAC-SHA256-PAYLOAD\n\(signing.amzDate)\n\(signing.scope.string)\n\(previousSignature)\n"
            + "\(SigV4.emptySHA256)\n\(Hex.encode(chunkHasher.finalize()))"
        let expected = SigV4.signature(signingKey: signing.signingKey, stringToSign: toSign)
        guard SigV4.constantTimeEquals(expected, claimedSignature.lowercased()) else {
            throw .chunkSignatureMismatch(chunkIndex: chunkIndex)
        }
        previousSignature = expected
    }

    private mutating func handleTrailerLine(_ bytes: [UInt8]) throws(AWSChunkedError) {
        let signedTrailer = signing != nil && expectsTrailer
        if bytes.isEmpty {
            // Some SDKs put a bare line between the checksum and the signature line: skip it while the
            // signature is still to come.
            if signedTrailer && !trailerSignatureVerified && !trailers.isEmpty { return }
            if signedTrailer && !trailerSignatureVerified { throw .missingTrailerSignature }
            if expectsTrailer && trailers.isEmpty { throw .malformedFraming(reason: "empty trailer section") }
            state = .done
            return
        }
        guard expectsTrailer else { throw .malformedFraming(reason: "trailer in a request without x-amz-trailer") }
        guard !trailerSignatureVerified else { throw .malformedFraming(reason: "trailer after the trailer signature") }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformedFraming(reason: "trailer line without ':'")
        }
        let name = String(decoding: bytes[..<colon], as: UTF8.self).trimmingSpaces().lowercased()
        let value = String(String(decoding: bytes[(colon + 1)...], as: UTF8.self).trimmingSpaces())
        guard !name.isEmpty else { throw .malformedFraming(reason: "trailer line without a name") }
        if signedTrailer && name == "x-amz-trailer-signature" {
            try verifyTrailerSignature(value)
            trailerSignatureVerified = true
            return
        }
        guard trailers.count < S3Limits.trailerCountMax else { throw .trailerTooLarge }
        trailers.append((name, value))
    }

    private func verifyTrailerSignature(_ claimed: String) throws(AWSChunkedError) {
        guard let signing else { return }
        let canonical = trailers.sorted { $0.name < $1.name }.map { "\($0.name):\($0.value)\n" }.joined()
        let toSign = "AWS4-HMAC-SHA256-TRAILER\n\(signing.amzDate)\n\(signing.scope.string)\n\(previousSignature)\n"
            + SigV4.sha256Hex(canonical.utf8)
        let expected = SigV4.signature(signingKey: signing.signingKey, stringToSign: toSign)
        guard SigV4.constantTimeEquals(expected, claimed.lowercased()) else { throw .trailerSignatureMismatch }
    }
}
