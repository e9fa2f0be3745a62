import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import S3Protocol
import Testing

/// Goal: the S3 surface of versioning, in process: the headers and status codes clients read
/// (`x-amz-version-id`, `x-amz-delete-marker`, 404 under a marker, 405 for a marker's id, NoSuchVersion,
/// InvalidArgument for a malformed id), GetBucketVersioning's document and the MFA-delete refusal.
/// Method: signed requests through Hummingbird's router test client against a real gateway (embedded
/// metadata, local chunk store).
@Suite struct VersioningGatewayTests {
    /// Sends a signed request with `body`.
    static func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String,
                     query: String = "", body: String = "") async throws -> TestResponse {
        let bytes = Array(body.utf8)
        let signed = SigV4Signer.sign(
            method: method.rawValue, rawPath: path, rawQuery: query, headers: [("host", "localhost")], body: bytes,
            accessKeyID: InProcessGateway.root.accessKeyID, secretAccessKey: InProcessGateway.root.secretAccessKey,
            region: "us-east-1", service: "s3", nowMilliseconds: S3Gateway.wallClockMilliseconds())
        var fields = HTTPFields()
        for (name, value) in signed where name != "host" { fields[HTTPField.Name(name)!] = value }
        fields[.contentLength] = String(bytes.count)
        return try await client.execute(uri: query.isEmpty ? path : path + "?" + query, method: method,
                                        headers: fields, body: ByteBuffer(bytes: bytes))
    }

    static let versionID = HTTPField.Name("x-amz-version-id")!
    static let deleteMarker = HTTPField.Name("x-amz-delete-marker")!

    @Test func versionsMarkersAndTheirAnswers() async throws {
        try await InProcessGateway.with { client in
            #expect(try await Self.send(client, .put, "/ver-bucket").status == .ok)
            let unset = try await Self.send(client, .get, "/ver-bucket", query: "versioning=")
            #expect(unset.status == .ok && unset.element("Status") == nil)
            // An unversioned bucket names no version on PUT.
            let plain = try await Self.send(client, .put, "/ver-bucket/k", body: "zero")
            #expect(plain.status == .ok && plain.headers[Self.versionID] == nil)

            let enable = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
            #expect(try await Self.send(client, .put, "/ver-bucket", query: "versioning=", body: enable).status == .ok)
            #expect(try await Self.send(client, .get, "/ver-bucket", query: "versioning=").element("Status") == "Enabled")
            let first = try await Self.send(client, .put, "/ver-bucket/k", body: "one")
            let v1 = try #require(first.headers[Self.versionID])
            #expect(v1.count == 32)
            let second = try await Self.send(client, .put, "/ver-bucket/k", body: "two")
            let v2 = try #require(second.headers[Self.versionID])
            #expect(v1 != v2)
            let old = try await Self.send(client, .get, "/ver-bucket/k", query: "versionId=\(v1)")
            #expect(old.status == .ok && old.text == "one" && old.headers[Self.versionID] == v1)
            let null = try await Self.send(client, .get, "/ver-bucket/k", query: "versionId=null")
            #expect(null.status == .ok && null.text == "zero")

            let deleted = try await Self.send(client, .delete, "/ver-bucket/k")
            #expect(deleted.status == .noContent && deleted.headers[Self.deleteMarker] == "true")
            let marker = try #require(deleted.headers[Self.versionID])
            let hidden = try await Self.send(client, .get, "/ver-bucket/k")
            #expect(hidden.status == .notFound && hidden.element("Code") == "NoSuchKey")
            #expect(hidden.headers[Self.deleteMarker] == "true" && hidden.headers[Self.versionID] == marker)
            let byID = try await Self.send(client, .head, "/ver-bucket/k", query: "versionId=\(marker)")
            #expect(byID.status == .methodNotAllowed && byID.headers[Self.deleteMarker] == "true")
            let missing = try await Self.send(client, .get, "/ver-bucket/k", query: "versionId=" + String(repeating: "0", count: 32))
            #expect(missing.status == .notFound && missing.element("Code") == "NoSuchVersion")
            let malformed = try await Self.send(client, .get, "/ver-bucket/k", query: "versionId=bogus")
            #expect(malformed.status == .badRequest && malformed.element("Code") == "InvalidArgument")

            let listed = try await Self.send(client, .get, "/ver-bucket", query: "versions=")
            #expect(listed.status == .ok)
            #expect(listed.text.contains("<DeleteMarker><Key>k</Key><VersionId>\(marker)</VersionId><IsLatest>true</IsLatest>"))
            #expect(listed.text.contains("<VersionId>\(v2)</VersionId><IsLatest>false</IsLatest>"))
            #expect(listed.text.contains("<VersionId>null</VersionId><IsLatest>false</IsLatest>"))

            // Removing the marker makes v2 current again; the version delete answers its id.
            let unmarked = try await Self.send(client, .delete, "/ver-bucket/k", query: "versionId=\(marker)")
            #expect(unmarked.headers[Self.versionID] == marker && unmarked.headers[Self.deleteMarker] == "true")
            #expect(try await Self.send(client, .get, "/ver-bucket/k").text == "two")

            // The bucket is not empty while versions remain.
            #expect(try await Self.send(client, .delete, "/ver-bucket").element("Code") == "BucketNotEmpty")
            for id in [v2, v1, "null"] {
                #expect(try await Self.send(client, .delete, "/ver-bucket/k", query: "versionId=\(id)").status == .noContent)
            }
            #expect(try await Self.send(client, .delete, "/ver-bucket").status == .noContent)
        }
    }

    @Test func configurationErrors() async throws {
        try await InProcessGateway.with { client in
            #expect(try await Self.send(client, .put, "/cfg-bucket").status == .ok)
            let bad = "<VersioningConfiguration><Status>Off</Status></VersioningConfiguration>"
            #expect(try await Self.send(client, .put, "/cfg-bucket", query: "versioning=", body: bad).element("Code") == "MalformedXML")
            let mfa = "<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>"
            let refused = try await Self.send(client, .put, "/cfg-bucket", query: "versioning=", body: mfa)
            #expect(refused.status == .forbidden && refused.element("Code") == "AccessDenied")
            #expect(try await Self.send(client, .get, "/cfg-bucket", query: "versioning=").element("Status") == nil)
            #expect(try await Self.send(client, .get, "/nobucket", query: "versioning=").element("Code") == "NoSuchBucket")
        }
    }
}
