import Crypto

/// AWS Signature Version 4 for S3, in two steps because the secret lookup is asynchronous in the Gateway:
///
/// 1. `SigV4.parse(request:)` reads the claims (access key id, scope, date, signed headers, signature,
///    payload mode) from the `Authorization` header or the presigned `X-Amz-*` query parameters.
/// 2. The Gateway finds the secret for `accessKeyID` (unknown key: its own `InvalidAccessKeyId`), then
///    `SigV4.verify(_:request:secretAccessKey:now:)` (or `verify(_:request:signingKey:now:)` with a cached
///    key) checks time and signature and returns a `VerifiedRequest`.
/// 3. The body: `.sha256(hex:)` → `PayloadSHA256Verifier`; streaming modes → `AWSChunkedDecoder`.
///
/// Pure: the clock comes in as `now` (milliseconds since the Unix epoch).
public enum SigV4 {
    /// The only algorithm accepted.
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// The hex SHA-256 of the empty string.
    public static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    // MARK: Step 1: parse

    /// Reads the signature claims of `request` without any secret. Throws `SigV4Error.missingAuthentication`
    /// for an anonymous request.
    public static func parse(request: SigV4Request) throws(SigV4Error) -> SigV4Authorization {
        let authorization = request.header("authorization")
        let query = QueryParameters(raw: request.rawQuery)
        let isPresigned = query.first("X-Amz-Signature") != nil || query.first("X-Amz-Algorithm") != nil
            || query.first("X-Amz-Credential") != nil
        switch (authorization, isPresigned) {
        case (.some, true): throw .multipleAuthenticationMechanisms
        case (.some(let value), false): return try parseHeader(value, request: request)
        case (.none, true): return try parsePresigned(query, request: request)
        case (.none, false): throw .missingAuthentication
        }
    }

    private static func parseHeader(_ value: String, request: SigV4Request) throws(SigV4Error) -> SigV4Authorization {
        guard value.utf8.count <= S3Limits.authorizationHeaderBytesMax else {
            throw .malformedAuthorization(reason: "the Authorization header is longer than \(S3Limits.authorizationHeaderBytesMax) bytes")
        }
        let trimmed = value.drop { $0 == " " }
        guard let space = trimmed.firstIndex(of: " ") else {
            throw trimmed.hasPrefix("AWS4-HMAC-SHA256") ? .malformedAuthorization(reason: "no credential after the algorithm")
                : .unsupportedAlgorithm(String(trimmed.prefix(32)))
        }
        let algorithmName = trimmed[..<space]
        guard algorithmName == algorithm else { throw .unsupportedAlgorithm(String(algorithmName.prefix(32))) }
        var credential: Substring?
        var signedHeaders: Substring?
        var signature: Substring?
        for component in trimmed[space...].split(separator: ",") {
            let part = component.trimmingSpaces()
            guard let equals = part.firstIndex(of: "=") else {
                throw .malformedAuthorization(reason: "component without '=': \(part.prefix(64))")
            }
            let name = part[..<equals]
            let content = part[part.index(after: equals)...]
            switch name {
            case "Credential": credential = content
            case "SignedHeaders": signedHeaders = content
            case "Signature": signature = content
            default: throw .malformedAuthorization(reason: "unknown component \(name.prefix(32))")
            }
        }
        guard let credential else { throw .malformedAuthorization(reason: "missing Credential") }
        guard let signedHeaders else { throw .malformedAuthorization(reason: "missing SignedHeaders") }
        guard let signature else { throw .malformedAuthorization(reason: "missing Signature") }
        let (accessKeyID, scope) = try parseCredential(credential, malformed: { .malformedAuthorization(reason: $0) })
        let headerNames = try parseSignedHeaders(signedHeaders, malformed: { .malformedAuthorization(reason: $0) })
        let checkedSignature = try parseSignature(signature, malformed: { .malformedAuthorization(reason: $0) })

        let (amzDate, requestTime) = try requestDate(request)
        guard amzDate.prefix(8) == scope.date else {
            throw .credentialDateMismatch(credentialDate: scope.date, requestDate: String(amzDate.prefix(8)))
        }
        guard let contentSHA256 = request.header("x-amz-content-sha256") else {
            throw .missingSecurityHeader("x-amz-content-sha256")
        }
        guard let payloadHash = PayloadHash(headerValue: String(contentSHA256.trimmingSpaces())) else {
            throw .invalidContentSHA256(String(contentSHA256.prefix(80)))
        }
        return SigV4Authorization(
            kind: .header, accessKeyID: accessKeyID, scope: scope, amzDate: amzDate, requestTimeMilliseconds: requestTime,
            signedHeaders: headerNames, signature: checkedSignature, payloadHash: payloadHash,
            securityToken: request.header("x-amz-security-token"))
    }

    private static func parsePresigned(_ query: QueryParameters, request: SigV4Request) throws(SigV4Error) -> SigV4Authorization {
        func required(_ name: String) throws(SigV4Error) -> String {
            guard let value = query.first(name) else { throw .malformedPresignedQuery(reason: "missing \(name)") }
            return value
        }
        let algorithmName = try required("X-Amz-Algorithm")
        guard algorithmName == algorithm else { throw .unsupportedAlgorithm(String(algorithmName.prefix(32))) }
        let (accessKeyID, scope) = try parseCredential(
            try required("X-Amz-Credential")[...], malformed: { .malformedPresignedQuery(reason: $0) })
        let amzDate = try required("X-Amz-Date")
        guard let requestTime = S3Time.parseAmzDate(amzDate) else { throw .invalidDate(String(amzDate.prefix(32))) }
        guard amzDate.prefix(8) == scope.date else {
            throw .credentialDateMismatch(credentialDate: scope.date, requestDate: String(amzDate.prefix(8)))
        }
        let expiresText = try required("X-Amz-Expires")
        // A negative validity (SDKs presign with a negative ExpiresIn) expired before it began: `checkTime`
        // answers 403 AccessDenied "Request has expired" as AWS does, not a malformed query. It is clamped
        // to a week so that no arithmetic on it can overflow.
        let negative = expiresText.hasPrefix("-")
        let digits = negative ? String(expiresText.dropFirst()) : expiresText
        guard (1...18).contains(digits.utf8.count), digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let magnitude = Int64(digits)
        else { throw .malformedPresignedQuery(reason: "X-Amz-Expires must be an integer") }
        let expires = negative ? -min(magnitude, S3Limits.presignedExpirySecondsMax) : magnitude
        guard expires <= S3Limits.presignedExpirySecondsMax else { throw .presignedExpiresTooLarge(expires) }
        let headerNames = try parseSignedHeaders(
            try required("X-Amz-SignedHeaders")[...], malformed: { .malformedPresignedQuery(reason: $0) })
        let signature = try parseSignature(
            try required("X-Amz-Signature")[...], malformed: { .malformedPresignedQuery(reason: $0) })
        // A presigned URL's body hash: a query X-Amz-Content-Sha256 if the client signed one, else the header if
        // present, else UNSIGNED-PAYLOAD (AWS: "include the literal string UNSIGNED-PAYLOAD").
        let payloadHash: PayloadHash
        if let claimed = query.first("X-Amz-Content-Sha256") ?? request.header("x-amz-content-sha256") {
            guard let parsed = PayloadHash(headerValue: String(claimed.trimmingSpaces())) else {
                throw .invalidContentSHA256(String(claimed.prefix(80)))
            }
            payloadHash = parsed
        } else {
            payloadHash = .unsigned
        }
        return SigV4Authorization(
            kind: .presigned(expirySeconds: expires), accessKeyID: accessKeyID, scope: scope, amzDate: amzDate,
            requestTimeMilliseconds: requestTime, signedHeaders: headerNames, signature: signature, payloadHash: payloadHash,
            securityToken: query.first("X-Amz-Security-Token") ?? request.header("x-amz-security-token"))
    }

    /// `x-amz-date`, else `Date` (an HTTP date), as the SigV4 basic form and as milliseconds.
    private static func requestDate(_ request: SigV4Request) throws(SigV4Error) -> (String, Int64) {
        if let amzDate = request.header("x-amz-date") {
            let trimmed = amzDate.trimmingSpaces()
            guard let time = S3Time.parseAmzDate(trimmed) else { throw .invalidDate(String(trimmed.prefix(32))) }
            return (String(trimmed), time)
        }
        if let date = request.header("date") {
            guard let time = S3Time.parseHTTPDate(date) else { throw .invalidDate(String(date.prefix(40))) }
            return (S3Time.amzDate(milliseconds: time), time)
        }
        throw .missingSecurityHeader("x-amz-date")
    }

    private static func parseCredential(
        _ credential: Substring, malformed: (String) -> SigV4Error
    ) throws(SigV4Error) -> (String, SigV4Scope) {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 5 else { throw malformed("Credential must be access-key/date/region/service/aws4_request") }
        let tail = parts.suffix(4)
        let accessKeyID = parts.prefix(parts.count - 4).joined(separator: "/")
        let date = tail[tail.startIndex], region = tail[tail.startIndex + 1]
        let service = tail[tail.startIndex + 2], terminal = tail[tail.startIndex + 3]
        guard !accessKeyID.isEmpty else { throw malformed("empty access key id in Credential") }
        guard date.utf8.count == 8, date.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw malformed("Credential date must be yyyyMMdd")
        }
        guard !region.isEmpty else { throw malformed("empty region in Credential") }
        guard terminal == "aws4_request" else { throw malformed("Credential must end with aws4_request") }
        guard service == "s3" else { throw .wrongService(String(service.prefix(32))) }
        return (accessKeyID, SigV4Scope(date: String(date), region: String(region), service: String(service)))
    }

    private static func parseSignedHeaders(_ text: Substring, malformed: (String) -> SigV4Error) throws(SigV4Error) -> [String] {
        let names = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.lowercased() }
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else { throw malformed("empty name in SignedHeaders") }
        guard names.count <= S3Limits.signedHeaderCountMax else {
            throw malformed("more than \(S3Limits.signedHeaderCountMax) signed headers")
        }
        guard names.contains("host") else { throw .hostNotSigned }
        return names
    }

    private static func parseSignature(_ text: Substring, malformed: (String) -> SigV4Error) throws(SigV4Error) -> String {
        guard text.utf8.count == 64, Hex.decode(text) != nil else { throw malformed("Signature must be 64 hex characters") }
        return text.lowercased()
    }

    // MARK: Step 1b: the scope the server accepts

    /// Checks what the claims promise about this server before any secret is looked up: the credential
    /// scope's region is `region`, and no session token is presented (Silo issues none, so any token is
    /// invalid rather than ignored).
    public static func checkScope(_ auth: SigV4Authorization, region: String) throws(SigV4Error) {
        var isPresigned = false
        if case .presigned = auth.kind { isPresigned = true }
        guard auth.scope.region == region else {
            throw .wrongRegion(signed: String(auth.scope.region.prefix(64)), expected: region, isPresigned: isPresigned)
        }
        if auth.securityToken != nil { throw .securityTokenNotAccepted }
    }

    // MARK: Step 2: verify

    /// Checks the request time and the signature with the secret of `auth.accessKeyID`. `now` is the server
    /// time in milliseconds since the Unix epoch.
    public static func verify(
        _ auth: SigV4Authorization, request: SigV4Request, secretAccessKey: String, now: Int64
    ) throws(SigV4Error) -> VerifiedRequest {
        let key = signingKey(secretAccessKey: secretAccessKey, scope: auth.scope)
        return try verify(auth, request: request, signingKey: key, now: now)
    }

    /// `verify(_:request:secretAccessKey:now:)` with a signing key the Gateway cached per (access key, scope).
    public static func verify(
        _ auth: SigV4Authorization, request: SigV4Request, signingKey: SigV4SigningKey, now: Int64
    ) throws(SigV4Error) -> VerifiedRequest {
        try checkTime(auth, now: now)
        let canonical = try canonicalRequest(auth, request: request)
        let toSign = stringToSign(amzDate: auth.amzDate, scope: auth.scope, canonicalRequest: canonical)
        let expected = signature(signingKey: signingKey, stringToSign: toSign)
        guard constantTimeEquals(expected, auth.signature) else {
            throw .signatureDoesNotMatch(canonicalRequest: canonical, stringToSign: toSign)
        }
        var isPresigned = false
        if case .presigned = auth.kind { isPresigned = true }
        return VerifiedRequest(
            accessKeyID: auth.accessKeyID, scope: auth.scope, amzDate: auth.amzDate, payloadHash: auth.payloadHash,
            seedSignature: auth.signature, signingKey: signingKey, isPresigned: isPresigned)
    }

    static func checkTime(_ auth: SigV4Authorization, now: Int64) throws(SigV4Error) {
        let skew = S3Limits.requestTimeSkewMillisecondsMax
        switch auth.kind {
        case .header:
            guard abs(now - auth.requestTimeMilliseconds) <= skew else {
                throw .requestTimeTooSkewed(requestTimeMilliseconds: auth.requestTimeMilliseconds, serverTimeMilliseconds: now)
            }
        case .presigned(let expirySeconds):
            guard auth.requestTimeMilliseconds - now <= skew else {
                throw .presignedNotYetValid(requestTimeMilliseconds: auth.requestTimeMilliseconds, serverTimeMilliseconds: now)
            }
            let expiry = auth.requestTimeMilliseconds + expirySeconds * 1000
            guard now <= expiry else { throw .presignedExpired(expiryTimeMilliseconds: expiry, serverTimeMilliseconds: now) }
        }
    }

    // MARK: The pieces, public for the Gateway's own signer, its tests and debugging

    /// The canonical request of `request` under the claims `auth` (AWS "Create a canonical request").
    public static func canonicalRequest(_ auth: SigV4Authorization, request: SigV4Request) throws(SigV4Error) -> String {
        var headerLines = ""
        for name in auth.signedHeaders {
            let values = request.headerValues(name)
            guard !values.isEmpty else { throw .signedHeaderMissing(name) }
            headerLines += name + ":" + values.map(canonicalHeaderValue).joined(separator: ",") + "\n"
        }
        var excluded: Set<String> = []
        if case .presigned = auth.kind { excluded = ["X-Amz-Signature"] }
        return [
            request.method,
            canonicalURI(rawPath: request.rawPath),
            canonicalQuery(rawQuery: request.rawQuery, excluding: excluded),
            headerLines,
            auth.signedHeaders.joined(separator: ";"),
            auth.payloadHash.headerValue,
        ].joined(separator: "\n")
    }

    /// The canonical URI: the raw path with each byte canonically percent-encoded once (S3 does not
    /// normalize `.`/`..` or `//` and does not double-encode). Empty → `/`.
    public static func canonicalURI(rawPath: String) -> String {
        rawPath.isEmpty ? "/" : S3URIEncoding.canonicalize(rawPath[...], keepSlash: true)
    }

    /// The canonical query: parameters canonically encoded, `name=` for a bare name, sorted by name then
    /// value (byte order), joined with `&`. `excluding` names raw parameter names to drop (X-Amz-Signature).
    public static func canonicalQuery(rawQuery: String, excluding: Set<String>) -> String {
        var pairs: [(String, String)] = []
        for item in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = item.firstIndex(of: "=") {
                name = item[..<equals]
                value = item[item.index(after: equals)...]
            } else {
                name = item
                value = ""
            }
            if excluding.contains(S3URIEncoding.decode(name) ?? String(name)) { continue }
            pairs.append((S3URIEncoding.canonicalize(name, keepSlash: false), S3URIEncoding.canonicalize(value, keepSlash: false)))
        }
        pairs.sort { lhs, rhs in
            lhs.0 != rhs.0 ? lhs.0.utf8.lexicographicallyPrecedes(rhs.0.utf8) : lhs.1.utf8.lexicographicallyPrecedes(rhs.1.utf8)
        }
        return pairs.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    /// A header value trimmed, with runs of spaces collapsed to one (AWS `Trimall`).
    public static func canonicalHeaderValue(_ value: String) -> String {
        var output: [UInt8] = []
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.append(UInt8(ascii: " ")) }
                pendingSpace = false
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex sha256(canonical request)>`.
    public static func stringToSign(amzDate: String, scope: SigV4Scope, canonicalRequest: String) -> String {
        "\(algorithm)\n\(amzDate)\n\(scope.string)\n\(sha256Hex(canonicalRequest.utf8))"
    }

    /// The signing key `HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")`. It
    /// depends only on (secret, scope), so the Gateway may cache it per access key and day.
    public static func signingKey(secretAccessKey: String, scope: SigV4Scope) -> SigV4SigningKey {
        var key = SigV4SigningKey(bytes: Array(("AWS4" + secretAccessKey).utf8))
        for part in [scope.date, scope.region, scope.service, "aws4_request"] {
            key = SigV4SigningKey(bytes: key.authenticationCode(part))
        }
        return key
    }

    /// The hex HMAC-SHA256 of `stringToSign` with `signingKey`.
    public static func signature(signingKey: SigV4SigningKey, stringToSign: String) -> String {
        Hex.encode(signingKey.authenticationCode(stringToSign))
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8), right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<left.count { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        Hex.encode(SHA256.hash(data: Array(bytes)))
    }
}

/// The query parameters of a raw query string, decoded, in order. Used to find the `X-Amz-*` parameters.
struct QueryParameters {
    var items: [(name: String, value: String)]

    /// Splits on the UTF-8 bytes (`&` and `=` are ASCII, so every cut is a character boundary): walking
    /// `Character`s was 9% of a presigned GET's CPU.
    init(raw: String) {
        let bytes = raw.utf8
        var items: [(name: String, value: String)] = []
        var start = bytes.startIndex
        func decoded(_ range: Range<String.UTF8View.Index>) -> String {
            let text = Substring(raw.utf8[range])
            return S3URIEncoding.decode(text) ?? String(text)
        }
        func take(_ end: String.UTF8View.Index) {
            guard start < end else { return }
            if let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) {
                items.append((decoded(start..<equals), decoded(bytes.index(after: equals)..<end)))
            } else {
                items.append((decoded(start..<end), ""))
            }
        }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "&") {
                take(index)
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        take(bytes.endIndex)
        self.items = items
    }

    func first(_ name: String) -> String? {
        items.first { $0.name == name }?.value
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
