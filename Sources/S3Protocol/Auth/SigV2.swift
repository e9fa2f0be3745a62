import Crypto
import Foundation

/// AWS Signature Version 2, which S3 still accepts and which the AWS CLI v1 uses for `aws s3 presign`:
/// the `Authorization: AWS <key>:<signature>` header and the presigned query
/// `AWSAccessKeyId=…&Expires=…&Signature=…`. Same two steps as `SigV4`: `parse` (no secret), then the
/// Gateway finds the secret and calls `verify`. The payload of a V2 request is never signed.
///
/// StringToSign = Verb \n Content-MD5 \n Content-Type \n Date-or-Expires \n CanonicalizedAmzHeaders
/// CanonicalizedResource; the signature is base64(HMAC-SHA1(secret, StringToSign)).
public enum SigV2 {
    /// The claims of a V2 request.
    public struct Authorization: Sendable, Hashable {
        public var accessKeyID: String
        /// Base64 of the HMAC-SHA1, as sent.
        public var signature: String
        /// For presigned URLs, the expiry in seconds since the Unix epoch; nil for the header form.
        public var expiresSeconds: Int64?
    }

    /// Sub-resources that are part of the canonicalized resource (AWS's list).
    static let subresources: Set<String> = [
        "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy",
        "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "restore", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website", "accelerate", "encryption",
        "replication", "select", "select-type", "object-lock", "retention", "legal-hold", "attributes",
    ]

    /// The V2 claims of `request`, or nil when it does not use V2 (then SigV4's parse decides).
    public static func parse(request: SigV4Request) throws(SigV4Error) -> Authorization? {
        if let header = request.header("authorization") {
            let trimmed = header.trimmingSpaces()
            guard trimmed.hasPrefix("AWS "), let colon = trimmed.lastIndex(of: ":") else { return nil }
            let key = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 4)..<colon].trimmingSpaces()
            let signature = trimmed[trimmed.index(after: colon)...]
            guard !key.isEmpty, !signature.isEmpty else {
                throw .malformedAuthorization(reason: "expected 'AWS <access key>:<signature>'")
            }
            return Authorization(accessKeyID: String(key), signature: String(signature), expiresSeconds: nil)
        }
        let query = QueryParameters(raw: request.rawQuery)
        guard let key = query.first("AWSAccessKeyId") else { return nil }
        // Expires is client input: digits only and short enough that every later sum and product in
        // `verify` stays far from Int64's range (a 12-digit epoch second is the year 33658).
        guard let signature = query.first("Signature"), let expiresText = query.first("Expires"),
              (1...S3Limits.presignedExpiresDigitsMax).contains(expiresText.utf8.count),
              expiresText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let expires = Int64(expiresText)
        else {
            throw .malformedPresignedQuery(reason: "AWSAccessKeyId needs Signature and a numeric Expires")
        }
        return Authorization(accessKeyID: key, signature: signature, expiresSeconds: expires)
    }

    /// Checks time and signature. `virtualHostBucket` is the bucket named by the Host header, if any (the
    /// canonicalized resource always starts with the bucket). Returns a request with an unsigned payload.
    public static func verify(
        _ auth: Authorization, request: SigV4Request, secretAccessKey: String, virtualHostBucket: String?,
        region: String, now: Int64
    ) throws(SigV4Error) -> VerifiedRequest {
        var dateLine = ""
        if let expires = auth.expiresSeconds {
            // `expires` has at most `presignedExpiresDigitsMax` digits (parse), so `* 1000` cannot overflow.
            precondition(expires >= 0 && expires < 1_000_000_000_000, "unchecked Expires \(expires)")
            let expiresMilliseconds = expires * 1000
            guard expiresMilliseconds >= now else {
                throw .presignedExpired(expiryTimeMilliseconds: expiresMilliseconds, serverTimeMilliseconds: now)
            }
            guard expiresMilliseconds - now <= S3Limits.presignedExpirySecondsMax * 1000 else {
                throw .presignedExpiresTooLarge(expires - now / 1000)
            }
            dateLine = String(expires)
        } else {
            let amzDate = request.header("x-amz-date")
            guard let text = amzDate ?? request.header("date") else { throw .missingSecurityHeader("date") }
            // RFC 1123 dates, also with a numeric "+0000" zone as older V2 clients write them.
            let normalized = text.hasSuffix(" +0000") ? String(text.dropLast(5)) + "GMT" : text
            guard let time = S3Time.parseHTTPDate(normalized) ?? S3Time.parseAmzDate(text) else {
                throw .invalidDate(text)
            }
            if abs(time - now) > S3Limits.requestTimeSkewMillisecondsMax {
                throw .requestTimeTooSkewed(requestTimeMilliseconds: time, serverTimeMilliseconds: now)
            }
            dateLine = amzDate == nil ? text : ""
        }
        let toSign = stringToSign(request: request, dateLine: dateLine, virtualHostBucket: virtualHostBucket)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(toSign.utf8),
                                                        using: SymmetricKey(data: Array(secretAccessKey.utf8)))
        let expected = Data(mac).base64EncodedString()
        guard SigV4.constantTimeEquals(expected, auth.signature) else {
            throw .signatureDoesNotMatch(canonicalRequest: "", stringToSign: toSign)
        }
        let amzDate = S3Time.amzDate(milliseconds: now)
        let scope = SigV4Scope(date: String(amzDate.prefix(8)), region: region, service: "s3")
        return VerifiedRequest(
            accessKeyID: auth.accessKeyID, scope: scope, amzDate: amzDate, payloadHash: .unsigned, seedSignature: "",
            signingKey: SigV4.signingKey(secretAccessKey: secretAccessKey, scope: scope),
            isPresigned: auth.expiresSeconds != nil)
    }

    /// The V2 string to sign (exposed for tests).
    public static func stringToSign(request: SigV4Request, dateLine: String, virtualHostBucket: String?) -> String {
        var amzHeaders: [String: [String]] = [:]
        for (name, value) in request.headers {
            let lowered = name.lowercased()
            guard lowered.hasPrefix("x-amz-"), lowered != "x-amz-date" || dateLine.isEmpty else { continue }
            amzHeaders[lowered, default: []].append(String(value.trimmingSpaces()))
        }
        var canonicalHeaders = ""
        for name in amzHeaders.keys.sorted() {
            canonicalHeaders += name + ":" + amzHeaders[name]!.joined(separator: ",") + "\n"
        }
        var resource = ""
        if let virtualHostBucket { resource = "/" + virtualHostBucket }
        resource += request.rawPath.isEmpty ? "/" : request.rawPath
        let query = QueryParameters(raw: request.rawQuery).items.filter { subresources.contains($0.name) }
            .sorted { $0.name < $1.name }
        if !query.isEmpty {
            resource += "?" + query.map { $0.value.isEmpty ? $0.name : $0.name + "=" + $0.value }.joined(separator: "&")
        }
        return [
            request.method, request.header("content-md5") ?? "", request.header("content-type") ?? "", dateLine,
        ].joined(separator: "\n") + "\n" + canonicalHeaders + resource
    }
}
