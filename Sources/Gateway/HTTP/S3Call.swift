import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol

/// One S3 request, as the handlers see it: who asks (a signed user, or nobody), for what, with which body.
///
/// Built by `S3Gateway.respond` after parsing and authentication, then passed to exactly one handler.
struct S3Call: Sendable {
    let requestID: String
    let method: HTTPRequest.Method
    let headers: HTTPFields
    /// Every header as (lower-case name, value), in arrival order (for the S3Protocol parsers).
    let headerList: [(name: String, value: String)]
    let target: S3RequestTarget
    /// The signing user; nil for an anonymous (unsigned) request, which reaches only what an ACL or a
    /// policy opens to everyone (the `Authorizer` decides before any handler runs).
    let user: UserRecord?
    /// The request body as sent on the wire (still aws-chunked framed in streaming modes).
    let rawBody: RequestBody
    let verified: VerifiedRequest
    /// Wall time at the start of the request, in milliseconds since the Unix epoch.
    let now: Int64

    /// The body and what the signature says about it, for the one body-verification path.
    var signedBody: SignedBody {
        SignedBody(raw: rawBody, verified: verified, headers: headers, headerList: headerList)
    }

    /// The bucket as read to authorize the request, for operations on an existing bucket; set by
    /// `S3Gateway.authorize` before the handler runs. Read linearizably, except for the writes whose
    /// commands carry `bucketAccess` (then perhaps from `BucketAccessCache`).
    var bucketRecord: BucketRecord?
    /// The stamp of `bucketRecord` for an access-stamped write (`S3Gateway.accessStampedOperations`): the
    /// handler hands it to its command through `withBucketAccess`, and apply re-checks it.
    var bucketAccess: BucketAccessStamp?
    /// The client's IP address as the connection shows it (`aws:SourceIp`), if known.
    var sourceAddress: String?

    /// Who asks, as the metadata knows them: the user's immutable id (bucket ownership is by id, never by
    /// name, so a user re-created with a deleted user's name owns nothing of theirs). Empty for an
    /// anonymous request: what it writes belongs to the bucket owner (`ObjectOwnershipRule`).
    var requester: String { user?.id ?? "" }

    /// Who asks, for the `Authorizer`.
    var principal: AccessPrincipal { user.map { .user(id: $0.id) } ?? .anonymous }

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
