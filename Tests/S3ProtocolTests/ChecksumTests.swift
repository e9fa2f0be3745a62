import Testing

import S3Protocol

private let check = Array("123456789".utf8)

@Test(arguments: [
    (ChecksumAlgorithm.crc32, "cbf43926"),
    (.crc32c, "e3069283"),
    (.crc64nvme, "ae8b14860a799888"),
    (.sha1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"),
    (.sha256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"),
])
func checkValues(_ algorithm: ChecksumAlgorithm, _ hex: String) {
    // Goal: each algorithm gives the catalogued check value for "123456789", also when fed one byte at a time.
    #expect(Hex.encode(ChecksumHasher.checksum(algorithm, of: check).digest) == hex)
    var hasher = ChecksumHasher(algorithm)
    for byte in check { hasher.update([byte]) }
    #expect(Hex.encode(hasher.finalize().digest) == hex)
}

@Test func awsTrailerExampleCRC32C() {
    // Goal: the S3 docs' trailer example: 66560 bytes of 'a' have x-amz-checksum-crc32c sOO8/Q==.
    let body = [UInt8](repeating: UInt8(ascii: "a"), count: 66_560)
    #expect(ChecksumHasher.checksum(.crc32c, of: body).base64 == "sOO8/Q==")
    #expect(ChecksumHasher.checksum(.crc64nvme, of: [UInt8]()).base64 == "AAAAAAAAAAA=")
    #expect(ChecksumHasher.checksum(.crc32, of: [UInt8]()).base64 == "AAAAAA==")
}

@Test func slicingMatchesBytewiseOnAllAlignments() {
    // Goal: the slicing-by-8 path equals the byte-at-a-time path for every length and offset mix.
    var generator = SplitMix64(seed: 7)
    let data = (0..<1000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    for algorithm in [ChecksumAlgorithm.crc32c, .crc64nvme, .crc32] {
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999] {
            let whole = ChecksumHasher.checksum(algorithm, of: Array(data[1..<(1 + length)]))
            var bytewise = ChecksumHasher(algorithm)
            for byte in data[1..<(1 + length)] { bytewise.update([byte]) }
            #expect(whole == bytewise.finalize(), "\(algorithm) length \(length)")
        }
    }
}

@Test func fullObjectCombineEqualsWholeChecksum() {
    // Goal: the multipart FULL_OBJECT CRC combined from parts equals the CRC of the whole object.
    // Method: random data cut at random points, including empty parts.
    var generator = SplitMix64(seed: 42)
    let data = (0..<20_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    for algorithm in [ChecksumAlgorithm.crc32, .crc32c, .crc64nvme] {
        for _ in 0..<10 {
            var cuts = (0..<4).map { _ in Int(generator.next() % UInt64(data.count)) } + [0, data.count]
            cuts.sort()
            var parts: [(checksum: Checksum, byteCount: Int64)] = []
            for index in 0..<(cuts.count - 1) {
                let part = Array(data[cuts[index]..<cuts[index + 1]])
                parts.append((ChecksumHasher.checksum(algorithm, of: part), Int64(part.count)))
            }
            #expect(MultipartChecksum.fullObject(parts: parts) == ChecksumHasher.checksum(algorithm, of: data))
        }
    }
    #expect(MultipartChecksum.fullObject(parts: [(ChecksumHasher.checksum(.sha256, of: data), 1)]) == nil)
}

@Test func compositeChecksumHasPartCountSuffix() {
    // Goal: COMPOSITE = checksum of concatenated raw part digests, base64, "-N".
    let a = ChecksumHasher.checksum(.sha256, of: Array("part one".utf8))
    let b = ChecksumHasher.checksum(.sha256, of: Array("part two".utf8))
    let expected = ChecksumHasher.checksum(.sha256, of: a.digest + b.digest).base64 + "-2"
    #expect(MultipartChecksum.composite(parts: [a, b]) == expected)
}

@Test func checksumHeaderParsing() throws {
    // Goal: names and values of the checksum headers parse, and each fault has its own error.
    #expect(ChecksumAlgorithm(headerName: "X-Amz-Checksum-CRC64NVME") == .crc64nvme)
    #expect(ChecksumAlgorithm(headerName: "x-amz-checksum-mode") == nil)
    #expect(ChecksumAlgorithm(name: "crc32c") == .crc32c)
    let parsed = try ChecksumHeaders.parse(headers: [
        ("x-amz-sdk-checksum-algorithm", "CRC32C"), ("x-amz-checksum-crc32c", "sOO8/Q=="), ("content-type", "x"),
    ])
    #expect(parsed.algorithm == .crc32c)
    #expect(parsed.claimed?.base64 == "sOO8/Q==")
    let trailer = try ChecksumHeaders.parse(headers: [("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-sdk-checksum-algorithm", "crc32")])
    #expect(trailer.trailerAlgorithm == .crc32 && trailer.algorithm == .crc32 && trailer.claimed == nil)
    #expect(throws: ChecksumError.multipleChecksumHeaders(["x-amz-checksum-crc32", "x-amz-checksum-sha1"])) {
        try ChecksumHeaders.parse(headers: [("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-checksum-sha1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=")])
    }
    #expect(throws: ChecksumError.invalidChecksumValue(headerName: "x-amz-checksum-crc32")) {
        try ChecksumHeaders.parse(headers: [("x-amz-checksum-crc32", "AAAA")])
    }
    #expect(throws: ChecksumError.unknownAlgorithm("MD5")) {
        try ChecksumHeaders.parse(headers: [("x-amz-sdk-checksum-algorithm", "MD5")])
    }
    #expect(throws: ChecksumError.algorithmMismatch(declared: .sha256, found: .crc32)) {
        try ChecksumHeaders.parse(headers: [("x-amz-sdk-checksum-algorithm", "SHA256"), ("x-amz-checksum-crc32", "AAAAAA==")])
    }
    #expect(throws: ChecksumError.invalidChecksumType("FULL_OBJECT with SHA256")) {
        try ChecksumHeaders.parse(headers: [("x-amz-checksum-algorithm", "SHA256"), ("x-amz-checksum-type", "FULL_OBJECT")])
    }
    let computed = ChecksumHasher.checksum(.crc32c, of: [UInt8](repeating: UInt8(ascii: "a"), count: 66_560))
    #expect(throws: Never.self) { try parsed.verify(computed) }
    #expect(throws: ChecksumError.self) { try parsed.verify(ChecksumHasher.checksum(.crc32c, of: check)) }
}

/// A small seeded generator for test data (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
