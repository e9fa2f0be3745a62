import HTTPTypes
import Hummingbird
import MetaQuorum
import NIOCore
import S3Protocol

/// One authenticated S3 request, as the handlers see it: who asks, for what, with which body.
///
/// Built by `S3Gateway.respond` after parsing and authentication, then passed to exactly one handler.
struct S3Call: Sendable {
    let requestID: String
    let method: HTTPRequest.Method
    let headers: HTTPFields
    /// Every header as (lower-case name, value), in arrival order (for the S3Protocol parsers).
    let headerList: [(name: String, value: String)]
    let target: S3RequestTarget
    let user: UserRecord
    /// The request body as sent on the wire (still aws-chunked framed in streaming modes).
    let rawBody: RequestBody
    let verified: VerifiedRequest
    /// Wall time at the start of the request, in milliseconds since the Unix epoch.
    let now: Int64

    /// The body and what the signature says about it, for the one body-verification path.
    var signedBody: SignedBody {
        SignedBody(raw: rawBody, verified: verified, headers: headers, headerList: headerList)
    }

    /// Who asks, as the metadata knows them: the user's immutable id (bucket ownership is by id, never by
    /// name, so a user re-created with a deleted user's name owns nothing of theirs).
    var requester: String { user.id }

    var bucket: String { target.bucket ?? "" }
    var key: String { target.key ?? "" }

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// A query parameter, percent-decoded (the first, if repeated).
    func query(_ name: String) -> String? {
        target.queryValue(name)
    }

    /// The resource named in error bodies: `/bucket/key`.
    var resource: String {
        var path = "/"
        if let bucket = target.bucket { path += bucket }
        if let key = target.key { path += "/" + key }
        return path
    }
}
