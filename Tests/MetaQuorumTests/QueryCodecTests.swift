import Testing

@testable import MetaQuorum

/// Goal: what crosses the metadata RPC for the versioning reads (`MetaQuery` tags 30–32 and their results)
/// survives encode → decode unchanged, and truncations and unknown enum values are refused with
/// `MetaCodecError`. Method: seeded random values with awkward text, every proper prefix of each encoding.
@Suite("Query codec")
struct QueryCodecTests {
    func randomQueries(_ random: inout RandomValues) -> [MetaQuery] {
        [
            .objectVersion(bucket: random.string(), key: random.string(),
                           versionID: random.bool() ? nil : random.string(), requester: random.string()),
            .listVersions(
                ListVersionsQuery(bucket: random.string(), prefix: random.string(), delimiter: random.string(),
                                  keyMarker: random.string(), versionIDMarker: random.string(),
                                  maxKeys: random.int(0...1000)),
                requester: random.string()),
            .bucketVersioning(bucket: random.string(), requester: random.string()),
            .bucketTagging(bucket: random.string()),
            .bucketCORS(bucket: random.string()),
            .blobMap,
        ]
    }

    func randomResults(_ random: inout RandomValues) -> [MetaQueryResult] {
        let versions = (0..<random.int(0...3)).map { _ in
            VersionSummary(key: random.string(), versionID: random.string(), isLatest: random.bool(),
                           isDeleteMarker: random.bool(), sizeBytes: random.int64(), etag: random.string(),
                           lastModifiedTime: random.int64())
        }
        return [
            .objectVersion(nil),
            .objectVersion(ObjectVersion(object: random.object(), isDeleteMarker: random.bool(), isLatest: random.bool())),
            .versions(
                ListVersionsPage(
                    versions: versions, commonPrefixes: (0..<random.int(0...2)).map { _ in random.string() },
                    isTruncated: random.bool(), nextKeyMarker: random.bool() ? nil : random.string(),
                    nextVersionIDMarker: random.bool() ? nil : random.string(), owner: random.string())),
            .versioning([BucketVersioning.unversioned, .enabled, .suspended][random.int(0...2)]),
            .text(nil),
            .text(random.string()),
            .blobMap(random.blobMap()),
            .blobMap(BlobMap(epoch: 0, nodes: [])),
        ]
    }

    @Test func versioningQueriesAndResultsRoundTrip() throws {
        var random = RandomValues(seed: 41)
        for _ in 0..<500 {
            for query in randomQueries(&random) {
                let bytes = query.encode()
                #expect(try MetaQuery(decoding: bytes) == query)
                for length in 0..<bytes.count {
                    #expect(throws: MetaCodecError.self) { try MetaQuery(decoding: Array(bytes[..<length])) }
                }
            }
            for result in randomResults(&random) {
                let bytes = result.encode()
                #expect(try MetaQueryResult(decoding: bytes) == result)
                for length in 0..<bytes.count {
                    #expect(throws: MetaCodecError.self) { try MetaQueryResult(decoding: Array(bytes[..<length])) }
                }
            }
        }
    }

    @Test func unknownVersioningStateIsRefused() {
        // Format 1, tag 32, state 3 (no such state).
        #expect(throws: MetaCodecError.invalidTag(3)) { try MetaQueryResult(decoding: [1, 32, 3]) }
        var command = MetaCommand.setBucketVersioning(envelope("r"), bucket: "b", state: .enabled).encode()
        command[command.count - 1] = 7
        #expect(throws: MetaCodecError.invalidTag(7)) { try MetaCommand(decoding: command) }
        // Kinds 21 and 22 exist from format 3 only.
        let old = MetaCommand.setBucketVersioning(envelope("r"), bucket: "b", state: .enabled).encoded(asFormat: 2)
        #expect(throws: MetaCodecError.invalidTag(22)) { try MetaCommand(decoding: old) }
    }
}
