import NIOCore
import Testing

import S3Protocol

private let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
private let scope = SigV4Scope(date: "20130524", region: "us-east-1", service: "s3")
private let key = SigV4.signingKey(secretAccessKey: secret, scope: scope)
private let payload = [UInt8](repeating: UInt8(ascii: "a"), count: 66_560)

private let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
private let chunkSignatures = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
private let trailerSeed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
private let trailerChunkSignatures = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
]
private let trailerSignature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"

/// The S3 docs' chunked example body: 64 KiB + 1 KiB + final chunk, then `tail` after the final header.
private func documentedBody(signatures: [String], tail: String) -> [UInt8] {
    var body: [UInt8] = []
    body += Array("10000;chunk-signature=\(signatures[0])\r\n".utf8) + payload[0..<65_536] + Array("\r\n".utf8)
    body += Array("400;chunk-signature=\(signatures[1])\r\n".utf8) + payload[65_536...] + Array("\r\n".utf8)
    body += Array("0;chunk-signature=\(signatures[2])\r\n".utf8) + Array(tail.utf8)
    return body
}

/// Feeds `body` cut at `cuts` (sorted offsets) and returns the payload and trailers.
private func decode(
    _ decoder: AWSChunkedDecoder, _ body: [UInt8], cuts: [Int]
) throws(AWSChunkedError) -> ([UInt8], [(name: String, value: String)]) {
    var decoder = decoder
    var output: [UInt8] = []
    var start = 0
    for cut in cuts + [body.count] where cut >= start {
        for buffer in try decoder.feed(ByteBuffer(bytes: body[start..<cut])) { output += Array(buffer.readableBytesView) }
        start = cut
    }
    let trailers = try decoder.finish()
    return (output, trailers)
}

private func signedDecoder(seed: String, trailer: Bool, length: Int64? = 66_560) -> AWSChunkedDecoder {
    AWSChunkedDecoder(
        signing: ChunkSigning(signingKey: key, amzDate: "20130524T000000Z", scope: scope, seedSignature: seed),
        expectsTrailer: trailer, decodedContentLength: length)
}

@Test func documentedSeedSignatureVerifies() throws {
    // Goal: the S3 docs' chunked PUT request headers verify with the documented seed signature, and the
    // VerifiedRequest makes a decoder that accepts the documented body.
    let request = SigV4Request(
        method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "",
        headers: [
            ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("Authorization",
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=\(seed)"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
        ])
    let verified = try SigV4.verify(try SigV4.parse(request: request), request: request, secretAccessKey: secret, now: 1_369_353_600_000)
    #expect(verified.payloadHash == .streamingSigned)
    let body = documentedBody(signatures: chunkSignatures, tail: "\r\n")
    #expect(body.count == 66_824)
    let (output, trailers) = try decode(AWSChunkedDecoder(verified: verified, decodedContentLength: 66_560), body, cuts: [])
    #expect(output == payload)
    #expect(trailers.isEmpty)
}

@Test func documentedChunksDecodeUnderAnySplit() throws {
    // Goal: the decoder is independent of how the input is split. Method: one byte at a time (the NIO
    // ByteToMessageDecoderVerifier idea), every split point near the framing, and random splits.
    let body = documentedBody(signatures: chunkSignatures, tail: "\r\n")
    let decoder = signedDecoder(seed: seed, trailer: false)
    #expect(try decode(decoder, body, cuts: Array(0..<body.count)).0 == payload)
    for cut in Array(0..<120) + Array(65_580..<65_720) + Array((body.count - 100)..<body.count) {
        #expect(try decode(decoder, body, cuts: [cut]).0 == payload)
    }
    var generator = SplitMix64(seed: 3)
    for _ in 0..<50 {
        let cuts = (0..<8).map { _ in Int(generator.next() % UInt64(body.count)) }.sorted()
        #expect(try decode(decoder, body, cuts: cuts).0 == payload)
    }
}

@Test func documentedTrailerExampleVerifies() throws {
    // Goal: the S3 docs' signed-trailer example (x-amz-checksum-crc32c:sOO8/Q==) decodes, its chunk chain and
    // trailer signature verify, also when split byte by byte, and also with an LF-only checksum line.
    let body = documentedBody(
        signatures: trailerChunkSignatures,
        tail: "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n")
    let decoder = signedDecoder(seed: trailerSeed, trailer: true)
    for cuts in [[], Array(0..<body.count)] {
        let (output, trailers) = try decode(decoder, body, cuts: cuts)
        #expect(output == payload)
        #expect(trailers.map(\.name) == ["x-amz-checksum-crc32c"])
        #expect(trailers.first?.value == "sOO8/Q==")
        #expect(ChecksumHasher.checksum(.crc32c, of: output).base64 == trailers.first?.value)
    }
    let variant = documentedBody(
        signatures: trailerChunkSignatures,
        tail: "x-amz-checksum-crc32c:sOO8/Q==\n\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n")
    #expect(try decode(decoder, variant, cuts: []).1.first?.value == "sOO8/Q==")
    // A changed trailer value or signature fails.
    let forged = documentedBody(
        signatures: trailerChunkSignatures,
        tail: "x-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n")
    #expect(throws: AWSChunkedError.trailerSignatureMismatch) { try decode(decoder, forged, cuts: []) }
    let unsigned = documentedBody(signatures: trailerChunkSignatures, tail: "x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n")
    #expect(throws: AWSChunkedError.missingTrailerSignature) { try decode(decoder, unsigned, cuts: []) }
}

@Test func tamperedChunksAreRejected() {
    // Goal: a changed data byte, a swapped signature, a missing signature each fail with their own error.
    let decoder = signedDecoder(seed: seed, trailer: false)
    var body = documentedBody(signatures: chunkSignatures, tail: "\r\n")
    body[100] = UInt8(ascii: "b")
    #expect(throws: AWSChunkedError.chunkSignatureMismatch(chunkIndex: 0)) { try decode(decoder, body, cuts: [50]) }
    let swapped = documentedBody(signatures: [chunkSignatures[0], chunkSignatures[2], chunkSignatures[1]], tail: "\r\n")
    #expect(throws: AWSChunkedError.chunkSignatureMismatch(chunkIndex: 1)) { try decode(decoder, swapped, cuts: []) }
    let wrongSeed = signedDecoder(seed: trailerSeed, trailer: false)
    #expect(throws: AWSChunkedError.chunkSignatureMismatch(chunkIndex: 0)) {
        try decode(wrongSeed, documentedBody(signatures: chunkSignatures, tail: "\r\n"), cuts: [])
    }
    let bare = Array("5\r\nhello\r\n0\r\n\r\n".utf8)
    #expect(throws: AWSChunkedError.missingChunkSignature(chunkIndex: 0)) { try decode(decoder, bare, cuts: []) }
}

@Test func framingErrorsAndLimits() {
    // Goal: truncation, bad sizes, oversized lines and chunks, extra data and length mismatches are refused.
    let unsigned = AWSChunkedDecoder(signing: nil, expectsTrailer: true, decodedContentLength: 5)
    let good = Array("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n".utf8)
    #expect((try? decode(unsigned, good, cuts: Array(0..<good.count)))?.0 == Array("hello".utf8))
    for length in 0..<(good.count - 2) {
        // Every strict prefix that stops before the trailer line is complete is incomplete.
        #expect(throws: AWSChunkedError.self) { try decode(unsigned, Array(good[0..<length]), cuts: []) }
    }
    // A body that ends right after the trailer line (no final blank line) is tolerated.
    #expect((try? decode(unsigned, Array(good[0..<(good.count - 2)]), cuts: []))?.1.first?.value == "NhCmhg==")
    #expect(throws: AWSChunkedError.decodedLengthMismatch(declared: 4, decoded: 5)) {
        try decode(AWSChunkedDecoder(signing: nil, expectsTrailer: true, decodedContentLength: 4), good, cuts: [])
    }
    #expect(throws: AWSChunkedError.decodedLengthMismatch(declared: 6, decoded: 5)) {
        try decode(AWSChunkedDecoder(signing: nil, expectsTrailer: true, decodedContentLength: 6), good, cuts: [])
    }
    #expect(throws: AWSChunkedError.dataAfterEnd) { try decode(unsigned, good + Array("x".utf8), cuts: []) }
    #expect(throws: AWSChunkedError.malformedFraming(reason: "chunk 0 size is not hex")) {
        try decode(unsigned, Array("zz\r\n".utf8), cuts: [])
    }
    #expect(throws: AWSChunkedError.malformedFraming(reason: "chunk 0 data not followed by CRLF")) {
        try decode(unsigned, Array("5\r\nhelloXX".utf8), cuts: [])
    }
    #expect(throws: AWSChunkedError.chunkTooLarge(byteCount: Int64(S3Limits.chunkSizeBytesMax) + 1)) {
        try decode(unsigned, Array(String(S3Limits.chunkSizeBytesMax + 1, radix: 16).utf8) + Array("\r\n".utf8), cuts: [])
    }
    let longLine = [UInt8](repeating: UInt8(ascii: "0"), count: S3Limits.chunkHeaderLineBytesMax + 2)
    #expect(throws: AWSChunkedError.chunkHeaderTooLong) { try decode(unsigned, longLine, cuts: [10]) }
    let hugeTrailer = Array("0\r\nx-amz-meta:".utf8) + [UInt8](repeating: UInt8(ascii: "v"), count: S3Limits.trailerBytesMax)
    #expect(throws: AWSChunkedError.trailerTooLarge) { try decode(unsigned, hugeTrailer, cuts: []) }
    let noTrailerExpected = AWSChunkedDecoder(signing: nil, expectsTrailer: false, decodedContentLength: nil)
    #expect(throws: AWSChunkedError.malformedFraming(reason: "trailer in a request without x-amz-trailer")) {
        try decode(noTrailerExpected, good, cuts: [])
    }
    // After an error every call throws the same error.
    var poisoned = unsigned
    #expect(throws: AWSChunkedError.self) { try poisoned.feed(ByteBuffer(bytes: Array("zz\r\n".utf8))) }
    #expect(throws: AWSChunkedError.malformedFraming(reason: "chunk 0 size is not hex")) { try poisoned.finish() }
}

@Test func documentedTrailerRequestVerifiesEndToEnd() throws {
    // Goal: the S3 docs' signed-trailer PUT: its headers verify with the documented seed, and the decoder made
    // from the VerifiedRequest accepts the documented body and yields the CRC32C trailer.
    let request = SigV4Request(
        method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "",
        headers: [
            ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("x-amz-trailer", "x-amz-checksum-crc32c"),
            ("Authorization",
             "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=\(trailerSeed)"),
        ])
    let verified = try SigV4.verify(try SigV4.parse(request: request), request: request, secretAccessKey: secret, now: 1_369_353_600_000)
    #expect(verified.payloadHash == .streamingSignedTrailer)
    let checksums = try ChecksumHeaders.parse(headers: request.headers)
    #expect(checksums.trailerAlgorithm == .crc32c)
    let body = documentedBody(
        signatures: trailerChunkSignatures,
        tail: "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n\r\n")
    let (output, trailers) = try decode(AWSChunkedDecoder(verified: verified, decodedContentLength: 66_560), body, cuts: [1000, 66_000])
    let claimed = Checksum(algorithm: .crc32c, base64: trailers.first { $0.name == ChecksumAlgorithm.crc32c.headerName }!.value)
    #expect(throws: Never.self) { try ChecksumHeaders.verify(claimed: claimed, computed: ChecksumHasher.checksum(.crc32c, of: output)) }
}
