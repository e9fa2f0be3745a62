import Crypto
import Foundation
import S3Protocol
import Testing

/// Goal: SigV2 verification matches AWS's documented examples and refuses expired or altered requests.
/// Method: the examples of the S3 "Signing and authenticating REST requests" page (AKIAIOSFODNN7EXAMPLE,
/// secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY), checked string to sign and signature.
@Suite struct SigV2Tests {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    @Test func awsObjectGetExample() throws {
        // GET /photos/puppy.jpg, virtual-hosted on awsexamplebucket1, Date: Tue, 27 Mar 2007 19:36:42 +0000.
        let request = SigV4Request(method: "GET", rawPath: "/photos/puppy.jpg", rawQuery: "", headers: [
            ("Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"), ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
            ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g="),
        ])
        let toSign = SigV2.stringToSign(request: request, dateLine: "Tue, 27 Mar 2007 19:36:42 +0000",
                                        virtualHostBucket: "awsexamplebucket1")
        #expect(toSign == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg")
        let auth = try #require(try SigV2.parse(request: request))
        #expect(auth.accessKeyID == "AKIAIOSFODNN7EXAMPLE")
        let now = try #require(S3Time.parseHTTPDate("Tue, 27 Mar 2007 19:40:00 GMT"))
        let verified = try SigV2.verify(auth, request: request, secretAccessKey: secret,
                                        virtualHostBucket: "awsexamplebucket1", region: "us-east-1", now: now)
        #expect(verified.payloadHash == .unsigned)
        #expect(throws: SigV4Error.self) {
            try SigV2.verify(auth, request: request, secretAccessKey: secret, virtualHostBucket: "other",
                             region: "us-east-1", now: now)
        }
    }

    @Test func awsPresignedExample() throws {
        // Query string authentication example (bucket johnsmith): Expires=1175139620, signature
        // NpgCjnDzrM+WFzoENXmpNDUsSn8=.
        let request = SigV4Request(
            method: "GET", rawPath: "/photos/puppy.jpg",
            rawQuery: "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
            headers: [("Host", "johnsmith.s3.amazonaws.com")])
        let auth = try #require(try SigV2.parse(request: request))
        #expect(auth.expiresSeconds == 1_175_139_620)
        let before: Int64 = 1_175_139_000 * 1000
        _ = try SigV2.verify(auth, request: request, secretAccessKey: secret, virtualHostBucket: "johnsmith",
                             region: "us-east-1", now: before)
        #expect(throws: SigV4Error.self) {  // expired
            try SigV2.verify(auth, request: request, secretAccessKey: secret, virtualHostBucket: "johnsmith",
                             region: "us-east-1", now: 1_175_139_621 * 1000)
        }
    }

    @Test func v4RequestsAreNotV2() throws {
        let request = SigV4Request(method: "GET", rawPath: "/", rawQuery: "", headers: [
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"),
        ])
        #expect(try SigV2.parse(request: request) == nil)
    }
}
