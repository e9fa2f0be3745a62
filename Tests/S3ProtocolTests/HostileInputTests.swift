import Testing

import S3Protocol

/// Goal: numbers a client controls never trap and are refused with the error AWS gives; the scope
/// check refuses another region and any session token.
/// Method: the extreme values found by the hostile-client review (the SigV2 `Expires` that stopped the
/// server), and the boundaries next to them.
@Suite struct HostileInputTests {
    private func presignedV2(expires: String) -> SigV4Request {
        SigV4Request(method: "GET", rawPath: "/", rawQuery: "AWSAccessKeyId=AK&Expires=\(expires)&Signature=x",
                     headers: [("host", "127.0.0.1")])
    }

    @Test(arguments: ["9223372036854775807", "-9223372036854775808", "-1", "+5", " 5", "1e3", "",
                      "1234567890123"])
    func sigV2ExpiresOutOfRangeIsMalformed(expires: String) {
        #expect(throws: SigV4Error.self) { try SigV2.parse(request: presignedV2(expires: expires)) }
    }

    @Test func sigV2ExpiresAtTheDigitLimitVerifiesWithoutTrapping() throws {
        let auth = try #require(try SigV2.parse(request: presignedV2(expires: "999999999999")))
        // Far in the future: refused as too long a validity, not by a trap.
        #expect(throws: SigV4Error.presignedExpiresTooLarge(999_999_999_999 - 1)) {
            try SigV2.verify(auth, request: presignedV2(expires: "999999999999"), secretAccessKey: "secret",
                             virtualHostBucket: nil, region: "us-east-1", now: 1000)
        }
    }

    private func auth(region: String, token: String?) -> SigV4Authorization {
        SigV4Authorization(
            kind: .header, accessKeyID: "AK", scope: SigV4Scope(date: "20261201", region: region, service: "s3"),
            amzDate: "20261201T000000Z", requestTimeMilliseconds: 0, signedHeaders: ["host"],
            signature: String(repeating: "0", count: 64), payloadHash: .unsigned, securityToken: token)
    }

    @Test func scopeMustNameTheServersRegion() throws {
        try SigV4.checkScope(auth(region: "us-east-1", token: nil), region: "us-east-1")
        #expect(throws: SigV4Error.wrongRegion(signed: "eu-west-1", expected: "us-east-1", isPresigned: false)) {
            try SigV4.checkScope(auth(region: "eu-west-1", token: nil), region: "us-east-1")
        }
    }

    @Test func anySecurityTokenIsRefused() {
        #expect(throws: SigV4Error.securityTokenNotAccepted) {
            try SigV4.checkScope(auth(region: "us-east-1", token: "token"), region: "us-east-1")
        }
    }
}

/// Goal: XML that is not UTF-8 (or declares another encoding) is MalformedXML before the parser sees it;
/// FoundationXML traps on non-UTF-8 names (a crash the fuzzer found).
@Suite struct XMLEncodingTests {
    @Test func nonUTF8NameIsMalformed() {
        let body = Array("<CreateBucketConfiguration".utf8) + [0xFF, 0xFF] + Array("></CreateBucketConfiguration>".utf8)
        #expect(throws: XMLRequestError.malformedXML(reason: "the document is not UTF-8")) {
            try CreateBucketConfiguration.parse(body)
        }
    }

    @Test func processingInstructionsAndDoctypesAreMalformed() {
        let pi = Array("<?o?><Delete><Object><Key>a</Key></Object></Delete>".utf8)
        #expect(throws: XMLRequestError.malformedXML(reason: "processing instructions are not allowed")) {
            try DeleteObjectsRequest.parse(pi)
        }
        let doctype = Array("<!DOCTYPE d [<!ENTITY a \"x\">]><Delete><Object><Key>&a;</Key></Object></Delete>".utf8)
        #expect(throws: XMLRequestError.malformedXML(reason: "document type declarations are not allowed")) {
            try DeleteObjectsRequest.parse(doctype)
        }
        let fine = Array("<?xml version=\"1.0\"?><!-- c --><Delete><Object><Key><![CDATA[a]]></Key></Object></Delete>".utf8)
        #expect((try? DeleteObjectsRequest.parse(fine))?.objects.first?.key == "a")
    }

    @Test func anotherDeclaredEncodingIsMalformed() throws {
        let latin = Array("<?xml version=\"1.0\" encoding='ISO-8859-1'?><CreateBucketConfiguration/>".utf8)
        #expect(throws: XMLRequestError.self) { try CreateBucketConfiguration.parse(latin) }
        let utf8 = Array("\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?><CreateBucketConfiguration/>".utf8)
        #expect(try CreateBucketConfiguration.parse(utf8).locationConstraint == nil)
    }
}
