import Crypto

/// Signs requests with AWS Signature Version 4 (header form), using the same canonical-request code
/// that verification uses, so a request this signer makes verifies by construction.
///
/// Callers: `silo admin` (requests to the admin endpoint) and tests that need requests no SDK sends.
public enum SigV4Signer {
    /// The headers to add to a request: `x-amz-date`, `x-amz-content-sha256` and `authorization`.
    /// `headers` must contain `host`; every header passed is signed. `rawPath` and `rawQuery` are as they
    /// will be sent (percent-encoded).
    public static func sign(
        method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)], body: [UInt8],
        accessKeyID: String, secretAccessKey: String, region: String, service: String, nowMilliseconds: Int64
    ) -> [(name: String, value: String)] {
        let amzDate = S3Time.amzDate(milliseconds: nowMilliseconds)
        let scope = SigV4Scope(date: String(amzDate.prefix(8)), region: region, service: service)
        let payloadHash = Hex.encode(SHA256.hash(data: body))
        var signedHeaders = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        signedHeaders.append((name: "x-amz-date", value: amzDate))
        signedHeaders.append((name: "x-amz-content-sha256", value: payloadHash))
        let names = Array(Set(signedHeaders.map(\.name))).sorted()
        let claims = SigV4Authorization(
            kind: .header, accessKeyID: accessKeyID, scope: scope, amzDate: amzDate,
            requestTimeMilliseconds: nowMilliseconds, signedHeaders: names, signature: "",
            payloadHash: .sha256(hex: payloadHash), securityToken: nil)
        let request = SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: signedHeaders)
        // Every signed header is present by construction, so building the canonical request cannot fail.
        guard let canonical = try? SigV4.canonicalRequest(claims, request: request) else {
            preconditionFailure("canonical request of a request built by the signer")
        }
        let stringToSign = SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let signature = SigV4.signature(signingKey: SigV4.signingKey(secretAccessKey: secretAccessKey, scope: scope),
                                        stringToSign: stringToSign)
        let authorization = "\(SigV4.algorithm) Credential=\(accessKeyID)/\(scope.string), "
            + "SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        return [("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash), ("authorization", authorization)]
    }
}
