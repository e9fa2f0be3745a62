import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol
import Synchronization

/// Get/Put/DeleteBucketCors, the `OPTIONS` preflight and the CORS headers of every other response to a
/// request with an `Origin`. The preflight is anonymous (browsers send no credentials) and is answered from
/// the bucket's rules alone, as S3 does; the other responses get their CORS headers whatever their status.
extension S3Gateway {
    func getBucketCors(_ call: S3Call) async throws -> Response {
        guard let stored = try await metadata.bucketCORS(bucket: call.bucket) else {
            throw S3Error(.noSuchCORSConfiguration)
        }
        return Self.xmlResponse(stored)
    }

    /// The document is validated and stored in canonical form (`CORSConfiguration.xml()`).
    func putBucketCors(_ call: S3Call) async throws -> Response {
        let body = try await call.signedBody.collectSmall(
            limitBytes: S3Limits.corsConfigurationBytesMax,
            tooLarge: S3Error(.malformedXML, "The CORS configuration exceeds \(S3Limits.corsConfigurationBytesMax) bytes."))
        let configuration = try CORSConfiguration.parse(Array(buffer: body))
        try await metadata.setBucketCORS(bucket: call.bucket, cors: configuration.xml(), requester: call.requester,
                                         commandID: call.requestID)
        return Self.emptyResponse(.ok)
    }

    /// Deleting a configuration that is not there succeeds, as in S3.
    func deleteBucketCors(_ call: S3Call) async throws -> Response {
        do {
            try await metadata.setBucketCORS(bucket: call.bucket, cors: nil, requester: call.requester,
                                             commandID: call.requestID)
        } catch .noSuchCORSConfiguration {
            // Nothing to delete.
        }
        return Self.emptyResponse(.noContent)
    }

    static let requestMethodHeader = HTTPField.Name("Access-Control-Request-Method")!
    static let requestHeadersHeader = HTTPField.Name("Access-Control-Request-Headers")!

    /// A CORS preflight (`OPTIONS`) on `bucket`: 200 with the matching rule's headers, 400 without an
    /// `Origin` or a valid `Access-Control-Request-Method`, 403 `AccessForbidden` when the bucket has no
    /// configuration or no rule allows the origin, method and headers.
    func preflight(_ request: Request, bucket: String?) async throws -> Response {
        guard let origin = request.headers[.origin] else {
            throw S3Error(.invalidRequest, "Insufficient information. Origin request header needed.")
        }
        guard let method = request.headers[Self.requestMethodHeader]?.trimmingCharacters(in: .whitespaces),
              CORSConfiguration.methods.contains(method)
        else {
            let sent = request.headers[Self.requestMethodHeader].map { String($0.prefix(32)) } ?? "null"
            throw S3Error(.invalidRequest, "Invalid Access-Control-Request-Method: \(sent)")
        }
        guard let bucket else {
            throw S3Error(.invalidRequest, "A CORS preflight must address a bucket or an object.")
        }
        guard let stored = try await metadata.bucketCORS(bucket: bucket), let configuration = ParsedCORS.configuration(stored)
        else {
            throw S3Error(.accessForbidden, "CORSResponse: CORS is not enabled for this bucket.",
                          details: [("Method", method), ("ResourceType", "BUCKET")])
        }
        let requested = Self.requestedHeaders(request.headers)
        guard let (rule, allowed) = configuration.match(origin: origin, method: method, requestHeaders: requested) else {
            throw S3Error(.accessForbidden,
                          "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                          details: [("Method", method), ("ResourceType", "OBJECT")])
        }
        var headers = HTTPFields()
        Self.describeCORS(rule, allowedOrigin: allowed, origin: origin, into: &headers)
        if !requested.isEmpty { headers[HTTPField.Name("Access-Control-Allow-Headers")!] = requested.joined(separator: ", ") }
        return Self.emptyResponse(.ok, headers: headers)
    }

    /// Adds the CORS headers of the rule matching a non-preflight request (its `Origin`, and the method it
    /// names in `Access-Control-Request-Method` or else its own) to `response`. Without a configuration, a
    /// match or a readable bucket, the response is left as it is: CORS headers are an addition, never the
    /// reason a request fails.
    func addCORSHeaders(to response: inout Response, request: Request, bucket: String) async {
        guard let origin = request.headers[.origin],
              let stored = try? await metadata.bucketCORS(bucket: bucket), let configuration = ParsedCORS.configuration(stored)
        else { return }
        let method = request.headers[Self.requestMethodHeader]?.trimmingCharacters(in: .whitespaces)
            ?? request.method.rawValue
        guard let (rule, allowed) = configuration.match(origin: origin, method: method, requestHeaders: []) else { return }
        Self.describeCORS(rule, allowedOrigin: allowed, origin: origin, into: &response.headers)
    }

    /// The headers every CORS answer of `rule` carries. A rule allowing every origin (`*`) answers `*`;
    /// otherwise the request's origin, with credentials allowed.
    static func describeCORS(_ rule: CORSConfiguration.Rule, allowedOrigin: String, origin: String,
                             into headers: inout HTTPFields) {
        if allowedOrigin == "*" {
            headers[HTTPField.Name("Access-Control-Allow-Origin")!] = "*"
        } else {
            headers[HTTPField.Name("Access-Control-Allow-Origin")!] = origin
            headers[HTTPField.Name("Access-Control-Allow-Credentials")!] = "true"
        }
        headers[HTTPField.Name("Access-Control-Allow-Methods")!] = rule.allowedMethods.joined(separator: ", ")
        if !rule.exposeHeaders.isEmpty {
            headers[HTTPField.Name("Access-Control-Expose-Headers")!] = rule.exposeHeaders.joined(separator: ", ")
        }
        if let seconds = rule.maxAgeSeconds { headers[HTTPField.Name("Access-Control-Max-Age")!] = String(seconds) }
        headers[.vary] = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    }

    /// `Access-Control-Request-Headers` as a list (comma-separated, every field line), bounded.
    static func requestedHeaders(_ headers: HTTPFields) -> [String] {
        let names = headers[values: requestHeadersHeader].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return Array(names.prefix(S3Limits.requestHeaderCountMax))
    }
}

/// Parsed CORS configurations by exact stored text: a browser request would otherwise parse its bucket's XML
/// every time. Keyed by content, so an entry is never stale. Bounded; cleared when full.
enum ParsedCORS {
    static let entriesMax = 256
    private static let entries = Mutex<[String: CORSConfiguration]>([:])

    static func configuration(_ text: String) -> CORSConfiguration? {
        if let cached = entries.withLock({ $0[text] }) { return cached }
        guard let parsed = try? CORSConfiguration.parse(Array(text.utf8)) else { return nil }
        entries.withLock { entries in
            if entries.count >= entriesMax { entries.removeAll(keepingCapacity: true) }
            entries[text] = parsed
        }
        return parsed
    }
}
