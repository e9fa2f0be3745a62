import Testing

import S3Protocol

private func route(
    _ method: String, _ target: String, host: String = "localhost:9000", copySource: String? = nil
) throws(S3RequestError) -> S3RequestTarget {
    let (path, query): (Substring, Substring)
    if let question = target.firstIndex(of: "?") {
        (path, query) = (target[..<question], target[target.index(after: question)...])
    } else {
        (path, query) = (target[...], "")
    }
    return try S3RequestTarget.parse(
        method: method, rawPath: String(path), rawQuery: String(query), host: host,
        virtualHostDomains: ["s3.amazonaws.com", "s3.local"], copySource: copySource)
}

struct RouteCase: Sendable, CustomTestStringConvertible {
    var method: String
    var target: String
    var copySource: String?
    var operation: String
    var testDescription: String { "\(method) \(target) => \(operation)" }
}

// The AWS API reference examples, as Garage's `test_aws_doc_examples` table: METHOD "target" => Operation.
private let awsDocExamples: [RouteCase] = [
    .init(method: "GET", target: "/", operation: "ListBuckets"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket", operation: "CreateBucket"),
    .init(method: "DELETE", target: "/amzn-s3-demo-bucket", operation: "DeleteBucket"),
    .init(method: "HEAD", target: "/amzn-s3-demo-bucket", operation: "HeadBucket"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?location", operation: "GetBucketLocation"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?prefix=N&marker=Ned&max-keys=40", operation: "ListObjects"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?list-type=2&start-after=ExampleGuide.pdf", operation: "ListObjectsV2"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?uploads&max-uploads=3", operation: "ListMultipartUploads"),
    .init(method: "POST", target: "/amzn-s3-demo-bucket?delete", operation: "DeleteObjects"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket/my-image.jpg", operation: "PutObject"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket/my-second-image.jpg", copySource: "/bucket/my-image.jpg",
          operation: "CopyObject"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/my-image.jpg", operation: "GetObject"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/my-image.jpg?response-content-type=text%2Fplain", operation: "GetObject"),
    .init(method: "HEAD", target: "/amzn-s3-demo-bucket/my-image.jpg", operation: "HeadObject"),
    .init(method: "DELETE", target: "/amzn-s3-demo-bucket/my-second-image.jpg", operation: "DeleteObject"),
    .init(method: "POST", target: "/amzn-s3-demo-bucket/example-object?uploads", operation: "CreateMultipartUpload"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket/my-movie.m2ts?partNumber=1&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR",
          operation: "UploadPart"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket/newobject?partNumber=2&uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
          copySource: "/source-bucket/sourceobject", operation: "UploadPartCopy"),
    .init(method: "POST", target: "/amzn-s3-demo-bucket/example-object?uploadId=AAAsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIRRwbG9hZA",
          operation: "CompleteMultipartUpload"),
    .init(method: "DELETE", target: "/amzn-s3-demo-bucket/example-object?uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZ",
          operation: "AbortMultipartUpload"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/example-object?uploadId=XXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzEEEwbG9hZA&max-parts=2&part-number-marker=1",
          operation: "ListParts"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?versions&prefix=my&max-keys=2", operation: "ListObjectVersions"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket?acl", operation: "PutBucketAcl"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/my-image.jpg?acl", operation: "GetObjectAcl"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/my-image.jpg?attributes", operation: "GetObjectAttributes"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?versioning", operation: "GetBucketVersioning"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket?versioning", operation: "PutBucketVersioning"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/my-image.jpg?tagging&versionId=null", operation: "GetObjectTagging"),
    .init(method: "DELETE", target: "/amzn-s3-demo-bucket/my-image.jpg?tagging", operation: "DeleteObjectTagging"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket/my-image.jpg?tagging", operation: "PutObjectTagging"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket?tagging", operation: "PutBucketTagging"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?tagging", operation: "GetBucketTagging"),
    .init(method: "DELETE", target: "/amzn-s3-demo-bucket?tagging", operation: "DeleteBucketTagging"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket?cors", operation: "PutBucketCors"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?cors", operation: "GetBucketCors"),
    .init(method: "DELETE", target: "/amzn-s3-demo-bucket?cors", operation: "DeleteBucketCors"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket?object-lock", operation: "GetObjectLockConfiguration"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket?object-lock", operation: "PutObjectLockConfiguration"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket/my-image.jpg?legal-hold", operation: "PutObjectLegalHold"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/my-image.jpg?legal-hold&versionId=null", operation: "GetObjectLegalHold"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket/my-image.jpg?retention", operation: "PutObjectRetention"),
    .init(method: "GET", target: "/amzn-s3-demo-bucket/my-image.jpg?retention", operation: "GetObjectRetention"),
    // Recognised, not implemented.
    .init(method: "DELETE", target: "/amzn-s3-demo-bucket?policy", operation: "DeleteBucketPolicy"),
    .init(method: "PUT", target: "/amzn-s3-demo-bucket?lifecycle", operation: "PutBucketLifecycleConfiguration"),
    .init(method: "POST", target: "/amzn-s3-demo-bucket/my-image.jpg?restore", operation: "RestoreObject"),
    .init(method: "POST", target: "/amzn-s3-demo-bucket/my-image.jpg?select&select-type=2", operation: "SelectObjectContent"),
    .init(method: "POST", target: "/amzn-s3-demo-bucket", operation: "PostObject"),
]

// Goal: every AWS doc example request line routes to its operation. Method: a table, as Garage's router test.
@Test(arguments: awsDocExamples)
func awsDocExampleRoutes(_ example: RouteCase) throws {
    let target = try route(example.method, example.target, copySource: example.copySource)
    #expect(target.endpoint.operationName == example.operation)
    #expect(target.bucket == (example.target == "/" ? nil : "amzn-s3-demo-bucket"))
}

@Test func endpointParametersAreExtracted() throws {
    // Goal: the handler gets upload ids, part numbers, copy sources and query values decoded.
    let part = try route("PUT", "/b/k?partNumber=7&uploadId=abc", copySource: "/src/dir%2Fa%20b.txt?versionId=v1")
    #expect(part.endpoint == .uploadPartCopy(partNumber: 7, uploadID: "abc",
                                             source: CopySource(bucket: "src", key: "dir/a b.txt", versionID: "v1")))
    let list = try route("GET", "/b?list-type=2&prefix=photos%2F2006%2F&delimiter=%2F&continuation-token=t&fetch-owner=true")
    #expect(list.queryValue("prefix") == "photos/2006/")
    #expect(list.queryValue("delimiter") == "/")
    #expect(list.queryValue("fetch-owner") == "true")
    #expect(try route("GET", "/b?prefix=a+b").queryValue("prefix") == "a b")
    #expect(throws: S3RequestError.invalidArgument(name: "partNumber", reason: "must be an integer between 1 and 10000")) {
        try route("PUT", "/b/k?partNumber=0&uploadId=abc")
    }
    #expect(throws: S3RequestError.invalidArgument(name: "partNumber", reason: "must be an integer between 1 and 10000")) {
        try route("PUT", "/b/k?partNumber=10001&uploadId=abc")
    }
    #expect(throws: S3RequestError.invalidArgument(name: "uploadId", reason: "missing or empty")) {
        try route("PUT", "/b/k?partNumber=1")
    }
    #expect(throws: S3RequestError.methodNotAllowed(method: "POST")) { try route("POST", "/b/k") }
    #expect(throws: S3RequestError.methodNotAllowed(method: "PUT")) { try route("PUT", "/") }
    #expect(throws: S3RequestError.methodNotAllowed(method: "PUT")) { try route("PUT", "/b/k?attributes") }
    #expect(throws: S3RequestError.methodNotAllowed(method: "DELETE")) { try route("DELETE", "/b?acl") }
    #expect(throws: S3RequestError.invalidArgument(name: "list-type", reason: "must be 2")) { try route("GET", "/b?list-type=1") }
}

@Test func keysAreDecodedExactly() throws {
    // Goal: keys keep `..`, `//`, `%2F` (as `/`), `+`, Unicode and control characters; bad escapes are refused.
    let cases: [(String, String)] = [
        ("/b/a%2Fb", "a/b"), ("/b/..%2F..//x", "../..//x"), ("/b/%E2%82%AC%20x", "€ x"), ("/b/%0A%0D", "\n\r"),
        ("/b/a+b", "a+b"), ("/b//lead", "/lead"), ("/b/dir/", "dir/"), ("/b/%2E%2E", ".."),
    ]
    for (path, key) in cases {
        #expect(try route("GET", path).key == key, "\(path)")
    }
    #expect(try route("GET", "/b/").key == nil)
    #expect(try route("GET", "/b").key == nil)
    #expect(throws: S3RequestError.invalidURI(reason: "bad percent-encoding or UTF-8 in path")) { try route("GET", "/b/%zz") }
    #expect(throws: S3RequestError.invalidURI(reason: "bad percent-encoding or UTF-8 in path")) { try route("GET", "/b/%FF") }
    #expect(throws: S3RequestError.invalidURI(reason: "bad percent-encoding in query")) { try route("GET", "/b?prefix=%4") }
}

@Test func virtualHostedStyle() throws {
    // Goal: `bucket.<domain>[:port]` selects the bucket from the host; other hosts are path-style.
    let target = try route("GET", "/test.txt", host: "examplebucket.s3.amazonaws.com")
    #expect(target.bucket == "examplebucket" && target.key == "test.txt" && target.isVirtualHosted)
    #expect(try route("GET", "/", host: "my.dotted.bucket.s3.local:9000").endpoint == .listObjects)
    #expect(try route("GET", "/", host: "my.dotted.bucket.s3.local:9000").bucket == "my.dotted.bucket")
    #expect(try route("GET", "/", host: "s3.local:9000").endpoint == .listBuckets)
    #expect(try route("GET", "/b/k", host: "127.0.0.1:9000").bucket == "b")
    #expect(try route("GET", "/b/k", host: "[::1]:9000").bucket == "b")
    #expect(try route("PUT", "/a%2Fb/c", host: "bkt.s3.local").key == "a/b/c")
}

@Test func copySourceParsing() throws {
    // Goal: the forms of x-amz-copy-source that SDKs send parse, with the version id and encoded characters.
    #expect(try CopySource.parse("/bucket/key") == CopySource(bucket: "bucket", key: "key", versionID: nil))
    #expect(try CopySource.parse("bucket/dir/key%3F.txt") == CopySource(bucket: "bucket", key: "dir/key?.txt", versionID: nil))
    #expect(try CopySource.parse("/bucket/k%C3%A9y?versionId=3%2F4") == CopySource(bucket: "bucket", key: "kéy", versionID: "3/4"))
    #expect(throws: S3RequestError.invalidCopySource(reason: "must be bucket/key")) { try CopySource.parse("/bucket") }
    #expect(throws: S3RequestError.invalidCopySource(reason: "must be bucket/key")) { try CopySource.parse("/bucket/") }
    #expect(throws: S3RequestError.invalidCopySource(reason: "unexpected query parameter x")) { try CopySource.parse("/b/k?x=1") }
}

@Test func uriEncodingHelpers() {
    // Goal: S3 encoding (unreserved pass, UTF-8 bytes upper-case escaped) and decoding round-trip.
    #expect(S3URIEncoding.encode("a b/c~d+e$é", keepSlash: true) == "a%20b/c~d%2Be%24%C3%A9")
    #expect(S3URIEncoding.encode("a/b", keepSlash: false) == "a%2Fb")
    #expect(S3URIEncoding.encodeForListing("photos/2006/Jan 1\n") == "photos/2006/Jan%201%0A")
    for text in ["", "plain", "a b/c", "€ü\u{0}\u{7F}", "%41"] {
        #expect(S3URIEncoding.decode(S3URIEncoding.encode(text, keepSlash: false)) == text)
    }
    #expect(S3URIEncoding.decode("%") == nil)
}
