import Crypto
import Foundation
import Testing

@testable import S3Protocol

/// POST Object's pure parts: the multipart/form-data scanner and the policy (conditions, signatures).
@Suite struct PostObjectTests {
    static let body = Array((
        "preamble to ignore\r\n--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n"
        + "--XyZ\r\ncontent-disposition: form-data; name=\"x-amz-meta-a\"\r\n\r\n\r\n--Xy\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
        + "Content-Type: text/plain\r\n\r\nline one\r\n--XyQ not a delimiter\r\n\r\n--XyZ--\r\nepilogue").utf8)

    /// Feeds `bytes` in pieces of `piece` bytes and collects the events (data merged per part).
    static func scan(_ bytes: [UInt8], piece: Int) throws -> [MultipartFormScanner.Event] {
        var scanner = MultipartFormScanner(boundary: "XyZ")
        var events: [MultipartFormScanner.Event] = []
        var offset = 0
        while offset < bytes.count {
            scanner.append(Array(bytes[offset..<min(bytes.count, offset + piece)]))
            offset += piece
            while let event = try scanner.next() {
                if case .data(let more) = event, case .data(let earlier)? = events.last {
                    events[events.count - 1] = .data(earlier + more)
                } else {
                    events.append(event)
                }
            }
        }
        try scanner.finish()
        return events
    }

    // Goal: the same parts whatever the pieces the body arrives in (down to one byte), a delimiter's prefix
    // inside a value kept as data, quoted filenames unescaped, and nothing read after the closing delimiter.
    @Test func scannerFindsTheSamePartsInAnyPieces() throws {
        let expected: [MultipartFormScanner.Event] = [
            .partStart(name: "key", filename: nil, contentType: nil), .data(Array("uploads/${filename}".utf8)), .partEnd,
            .partStart(name: "x-amz-meta-a", filename: nil, contentType: nil), .data(Array("\r\n--Xy".utf8)), .partEnd,
            .partStart(name: "file", filename: "a \"b\".txt", contentType: "text/plain"),
            .data(Array("line one\r\n--XyQ not a delimiter\r\n".utf8)), .partEnd, .end,
        ]
        for piece in [1, 2, 3, 7, 64, 4096] {
            #expect(try Self.scan(Self.body, piece: piece) == expected, "pieces of \(piece)")
        }
    }

    // Goal: a body cut before its closing delimiter, a part without a name, and headers without end are
    // refused; the boundary parameter is read quoted or not.
    @Test func scannerRefusesMalformedBodies() {
        #expect(throws: MultipartFormError.self) { try Self.scan(Array(Self.body.prefix(150)), piece: 10) }
        let nameless = Array("--XyZ\r\nContent-Disposition: form-data\r\n\r\nv\r\n--XyZ--".utf8)
        #expect(throws: MultipartFormError.self) { try Self.scan(nameless, piece: 100) }
        let endless = Array("--XyZ\r\nX: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: S3Limits.multipartHeaderBytesMax + 10)
        #expect(throws: MultipartFormError.self) { try Self.scan(endless, piece: 1000) }
        #expect(MultipartFormScanner.boundary(of: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(MultipartFormScanner.boundary(of: "Multipart/Form-Data;boundary=q") == "q")
        #expect(MultipartFormScanner.boundary(of: "application/x-www-form-urlencoded") == nil)
    }

    static func policy(_ json: String) -> String { Data(json.utf8).base64EncodedString() }

    // Goal: the policy's conditions as AWS applies them: case-insensitive operators and field names,
    // case-sensitive top-level keys, every field covered, expiry, content-length-range read.
    @Test func policyConditions() throws {
        let text = Self.policy("""
            {"expiration": "2030-01-01T00:00:00.000Z", "conditions": [{"bUcKeT": "b"}, ["StArTs-WiTh", "$Key", "up/"],
             {"acl": "private"}, ["eq", "$x-amz-meta-a", "1"], ["starts-with", "$Content-Type", "text/"],
             ["content-length-range", 1, 1024]]}
            """)
        let policy = try PostPolicy.parse(base64: text)
        #expect(policy.contentLengthRange == 1...1024)
        let fields = ["key": "up/f", "acl": "private", "x-amz-meta-a": "1", "content-type": "text/plain",
                      "policy": text, "x-ignore-me": "1", "x-amz-checksum-crc32": "AAAAAA=="]
        let now = S3Time.parseISO8601("2029-12-31T23:59:59Z")!
        try policy.check(fields: fields, bucket: "b", now: now)
        #expect(throws: PostPolicyError.self) { try policy.check(fields: fields, bucket: "other", now: now) }
        #expect(throws: PostPolicyError.self) { try policy.check(fields: fields.merging(["key": "down/f"]) { $1 }, bucket: "b", now: now) }
        #expect(throws: PostPolicyError.self) { try policy.check(fields: fields.merging(["extra": "x"]) { $1 }, bucket: "b", now: now) }
        #expect(throws: PostPolicyError.self) { try policy.check(fields: fields, bucket: "b", now: now + 2000) }
        for bad in [#"{"EXPIRATION": "2030-01-01T00:00:00Z", "conditions": []}"#,
                    #"{"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": []}"#,
                    #"{"expiration": "2030-01-01 00:00:00", "conditions": []}"#,
                    #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]}"#,
                    #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 0]]}"#,
                    #"{"expiration": "2030-01-01T00:00:00Z", "conditions": [["starts-with", "key", "a"]]}"#] {
            #expect(throws: PostPolicyError.self, "\(bad)") { try PostPolicy.parse(base64: Self.policy(bad)) }
        }
    }

    // Goal: SigV2 and SigV4 signatures of the policy verify with the right secret only; a partly signed
    // form is refused, an unsigned one is anonymous.
    @Test func signatures() throws {
        let policy = Self.policy(#"{"expiration": "2030-01-01T00:00:00Z", "conditions": []}"#)
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        let v2 = Data(HMAC<Insecure.SHA1>.authenticationCode(for: Array(policy.utf8), using: SymmetricKey(data: Array(secret.utf8))))
            .base64EncodedString()
        let signedV2 = try #require(try PostSignature.parse(fields: ["awsaccesskeyid": "AKID", "signature": v2, "policy": policy]))
        try signedV2.verify(policy: policy, secretAccessKey: secret)
        #expect(throws: PostPolicyError.signatureDoesNotMatch) { try signedV2.verify(policy: policy, secretAccessKey: "other") }
        let scope = SigV4Scope(date: "20261201", region: "us-east-1", service: "s3")
        let v4 = SigV4.signingKey(secretAccessKey: secret, scope: scope).authenticationCode(policy)
            .map { String(format: "%02x", $0) }.joined()
        let signedV4 = try #require(try PostSignature.parse(fields: [
            "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": "AKID/20261201/us-east-1/s3/aws4_request",
            "x-amz-date": "20261201T000000Z", "x-amz-signature": v4, "policy": policy]))
        #expect(signedV4.accessKeyID == "AKID")
        try signedV4.verify(policy: policy, secretAccessKey: secret)
        #expect(throws: PostPolicyError.signatureDoesNotMatch) { try signedV4.verify(policy: policy + "x", secretAccessKey: secret) }
        #expect(throws: PostPolicyError.self) { try PostSignature.parse(fields: ["awsaccesskeyid": "AKID", "policy": policy]) }
        #expect(throws: PostPolicyError.self) { try PostSignature.parse(fields: ["policy": policy]) }
        #expect(try PostSignature.parse(fields: ["key": "k"]) == nil)
    }
}
