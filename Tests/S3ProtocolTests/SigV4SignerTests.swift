import Crypto
import S3Protocol
import Testing

/// Goal: what `SigV4Signer` signs, `SigV4.parse` + `verify` accept; and a changed byte is refused.
/// Method: sign a request, then verify it as the Gateway would, with the right and a wrong secret and with
/// a tampered path.
@Suite struct SigV4SignerTests {
    let now: Int64 = 1_700_000_000_000

    func signed(path: String, secret: String = "secret-key-example") -> SigV4Request {
        let headers = [(name: "host", value: "127.0.0.1:9000")]
        let extra = SigV4Signer.sign(
            method: "POST", rawPath: path, rawQuery: "a=1&b=two%20words", headers: headers, body: Array("{}".utf8),
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret, region: "us-east-1", service: "s3",
            nowMilliseconds: now)
        return SigV4Request(method: "POST", rawPath: path, rawQuery: "a=1&b=two%20words", headers: headers + extra)
    }

    @Test func signedRequestVerifies() throws {
        let request = signed(path: "/_silo/admin/users")
        let auth = try SigV4.parse(request: request)
        #expect(auth.accessKeyID == "AKIDEXAMPLE")
        let verified = try SigV4.verify(auth, request: request, secretAccessKey: "secret-key-example", now: now + 1000)
        #expect(verified.accessKeyID == "AKIDEXAMPLE")
    }

    @Test func wrongSecretOrTamperedPathIsRefused() throws {
        let request = signed(path: "/_silo/admin/users")
        let auth = try SigV4.parse(request: request)
        #expect(throws: SigV4Error.self) {
            try SigV4.verify(auth, request: request, secretAccessKey: "another-secret", now: now)
        }
        var tampered = request
        tampered.rawPath = "/_silo/admin/userz"
        #expect(throws: SigV4Error.self) {
            try SigV4.verify(auth, request: tampered, secretAccessKey: "secret-key-example", now: now)
        }
    }
}
