/// The parts of an HTTP request that SigV4 signs, exactly as received: the Gateway builds one from its
/// Hummingbird request and passes it to `SigV4.parse` and then `SigV4.verify`.
public struct SigV4Request: Sendable {
    /// The request method, upper case (`GET`, `PUT`, ...).
    public var method: String
    /// The path as received on the request line, still percent-encoded, without the query (`/bucket/a%20b`).
    public var rawPath: String
    /// The query as received, without the leading `?`; empty when there is none.
    public var rawQuery: String
    /// Every header in arrival order, names in any case, repeated names allowed. It must include `host`
    /// (HTTP/2's `:authority` mapped to `host`).
    public var headers: [(name: String, value: String)]

    /// Creates a request from its raw parts.
    public init(method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    /// Every value of header `name` (case-insensitive), in arrival order.
    public func headerValues(_ name: String) -> [String] {
        let lowered = name.lowercased()
        return headers.compactMap { $0.name.lowercased() == lowered ? $0.value : nil }
    }

    /// The first value of header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

/// What the client says the payload is, from `x-amz-content-sha256` (or, for presigned URLs, the
/// `UNSIGNED-PAYLOAD` default). Decides how the Gateway reads the body.
public enum PayloadHash: Sendable, Hashable {
    /// The hex SHA-256 of the whole body, as sent (it is signed as sent): the Gateway must check the body against it
    /// (`PayloadSHA256Verifier`) before it commits anything.
    case sha256(hex: String)
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    case unsigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked body with a signature per chunk.
    case streamingSigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks, then signed trailers (`x-amz-checksum-*`).
    case streamingSignedTrailer
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: aws-chunked body without signatures, then trailers.
    case streamingUnsignedTrailer

    /// Reads the header value; nil for anything unknown (a malformed `x-amz-content-sha256`).
    public init?(headerValue: String) {
        switch headerValue {
        case "UNSIGNED-PAYLOAD": self = .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": self = .streamingSigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": self = .streamingSignedTrailer
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": self = .streamingUnsignedTrailer
        default:
            guard headerValue.utf8.count == 64, let bytes = Hex.decode(headerValue), bytes.count == 32 else { return nil }
            self = .sha256(hex: headerValue)
        }
    }

    /// The value as it appears in the header and as the last line of the canonical request.
    public var headerValue: String {
        switch self {
        case .sha256(let hex): return hex
        case .unsigned: return "UNSIGNED-PAYLOAD"
        case .streamingSigned: return "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        case .streamingSignedTrailer: return "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        case .streamingUnsignedTrailer: return "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
        }
    }

    /// True for the three aws-chunked modes: the body must go through `AWSChunkedDecoder`.
    public var isStreaming: Bool {
        switch self {
        case .streamingSigned, .streamingSignedTrailer, .streamingUnsignedTrailer: return true
        case .sha256, .unsigned: return false
        }
    }

    /// True when the aws-chunked body ends with trailers.
    public var hasTrailer: Bool {
        self == .streamingSignedTrailer || self == .streamingUnsignedTrailer
    }
}

/// The credential scope `date/region/service/aws4_request`.
public struct SigV4Scope: Sendable, Hashable {
    /// `yyyyMMdd`, the day of the request time.
    public var date: String
    /// The region the client signed for (`us-east-1`); the Gateway may check it against its own.
    public var region: String
    /// The service, always `s3` once parsed.
    public var service: String

    /// Creates a scope.
    public init(date: String, region: String, service: String) {
        self.date = date
        self.region = region
        self.service = service
    }

    /// `20130524/us-east-1/s3/aws4_request`.
    public var string: String { "\(date)/\(region)/\(service)/aws4_request" }
}

/// The signature claims of a request, parsed but not yet checked: step 1 of authentication. The Gateway
/// looks up the secret of `accessKeyID` (asynchronously) and then calls `SigV4.verify`.
public struct SigV4Authorization: Sendable, Hashable {
    /// Where the signature came from.
    public enum Kind: Sendable, Hashable {
        /// The `Authorization` header.
        case header
        /// Presigned URL query parameters; the URL is valid for `expirySeconds` after the request time.
        case presigned(expirySeconds: Int64)
    }

    /// Header or presigned.
    public var kind: Kind
    /// The access key id from the credential (`AKIAIOSFODNN7EXAMPLE`); its lookup is the Gateway's.
    public var accessKeyID: String
    /// The credential scope.
    public var scope: SigV4Scope
    /// The request time as written (`20130524T000000Z`), the second line of the string to sign.
    public var amzDate: String
    /// The request time, milliseconds since the Unix epoch.
    public var requestTimeMilliseconds: Int64
    /// The signed header names, lower case, in the order the client listed them.
    public var signedHeaders: [String]
    /// The claimed signature, 64 lower-case hex characters.
    public var signature: String
    /// The payload mode (`x-amz-content-sha256`).
    public var payloadHash: PayloadHash
    /// `x-amz-security-token` / `X-Amz-Security-Token`, if present (Silo has no session tokens; the Gateway
    /// decides what to do with one).
    public var securityToken: String?

    /// Creates the claims (tests and the Gateway's own signer use this; requests go through `SigV4.parse`).
    public init(
        kind: Kind, accessKeyID: String, scope: SigV4Scope, amzDate: String, requestTimeMilliseconds: Int64,
        signedHeaders: [String], signature: String, payloadHash: PayloadHash, securityToken: String?
    ) {
        self.kind = kind
        self.accessKeyID = accessKeyID
        self.scope = scope
        self.amzDate = amzDate
        self.requestTimeMilliseconds = requestTimeMilliseconds
        self.signedHeaders = signedHeaders
        self.signature = signature
        self.payloadHash = payloadHash
        self.securityToken = securityToken
    }
}

/// A request whose signature checked out: what the Gateway needs afterwards (who, and how to read the body).
public struct VerifiedRequest: Sendable {
    /// The authenticated access key id.
    public var accessKeyID: String
    /// The credential scope the request was signed with.
    public var scope: SigV4Scope
    /// The request time as signed (`20130524T000000Z`); aws-chunked signatures reuse it.
    public var amzDate: String
    /// The payload mode.
    public var payloadHash: PayloadHash
    /// The request signature: the seed of the aws-chunked signature chain.
    public var seedSignature: String
    /// The derived signing key; aws-chunked chunk and trailer signatures are HMACs with it.
    public var signingKey: SigV4SigningKey
    /// True when authenticated by a presigned URL.
    public var isPresigned: Bool

    /// Creates a verified request (the Gateway's tests use this; requests get one from `SigV4.verify`).
    public init(
        accessKeyID: String, scope: SigV4Scope, amzDate: String, payloadHash: PayloadHash, seedSignature: String,
        signingKey: SigV4SigningKey, isPresigned: Bool
    ) {
        self.accessKeyID = accessKeyID
        self.scope = scope
        self.amzDate = amzDate
        self.payloadHash = payloadHash
        self.seedSignature = seedSignature
        self.signingKey = signingKey
        self.isPresigned = isPresigned
    }
}

/// Why a request's SigV4 authentication failed. The Gateway maps each case to an S3 error (typically
/// `AccessDenied`, `SignatureDoesNotMatch`, `AuthorizationHeaderMalformed`, `AuthorizationQueryParametersError`,
/// `RequestTimeTooSkewed`, `InvalidRequest`, `XAmzContentSHA256Mismatch`).
public enum SigV4Error: Error, Sendable, Hashable {
    /// Neither an `Authorization` header nor `X-Amz-Signature` / `X-Amz-Algorithm` query parameters: anonymous.
    case missingAuthentication
    /// Both an `Authorization` header and presigned query parameters.
    case multipleAuthenticationMechanisms
    /// The algorithm is not `AWS4-HMAC-SHA256` (SigV2 `AWS ak:sig`, SigV4A `AWS4-ECDSA-P256-SHA256`, ...).
    case unsupportedAlgorithm(String)
    /// The `Authorization` header does not parse; the reason says what is wrong.
    case malformedAuthorization(reason: String)
    /// The presigned query parameters do not parse (missing `X-Amz-Credential`, bad `X-Amz-Expires`...).
    case malformedPresignedQuery(reason: String)
    /// The credential's service is not `s3`.
    case wrongService(String)
    /// The credential's date is not the day of the request time.
    case credentialDateMismatch(credentialDate: String, requestDate: String)
    /// `X-Amz-Date` / `Date` missing (header auth) or unparseable.
    case invalidDate(String)
    /// A header the signature needs is absent: `x-amz-content-sha256` (header auth), `x-amz-date`/`date`.
    case missingSecurityHeader(String)
    /// `x-amz-content-sha256` is neither a hex SHA-256 nor one of the known mode names.
    case invalidContentSHA256(String)
    /// `host` is not among the signed headers.
    case hostNotSigned
    /// A header listed in SignedHeaders is absent from the request.
    case signedHeaderMissing(String)
    /// The request time is more than 15 minutes from the server's clock.
    case requestTimeTooSkewed(requestTimeMilliseconds: Int64, serverTimeMilliseconds: Int64)
    /// `X-Amz-Expires` is above 604800 seconds (7 days).
    case presignedExpiresTooLarge(Int64)
    /// The presigned URL expired.
    case presignedExpired(expiryTimeMilliseconds: Int64, serverTimeMilliseconds: Int64)
    /// The presigned URL's `X-Amz-Date` is in the future (beyond the allowed skew).
    case presignedNotYetValid(requestTimeMilliseconds: Int64, serverTimeMilliseconds: Int64)
    /// The signature differs from the one computed with the secret. Carries what S3 returns to help
    /// debugging clients (the canonical request and string to sign).
    case signatureDoesNotMatch(canonicalRequest: String, stringToSign: String)
    /// The body's SHA-256 differs from `x-amz-content-sha256`.
    case payloadHashMismatch(claimed: String, computed: String)
    /// The credential scope names another region than the server's (`AuthorizationHeaderMalformed`, or
    /// `AuthorizationQueryParametersError` for a presigned URL, as AWS answers).
    case wrongRegion(signed: String, expected: String, isPresigned: Bool)
    /// The request carries `x-amz-security-token` (temporary credentials), which Silo never issues:
    /// `InvalidToken`.
    case securityTokenNotAccepted
}
