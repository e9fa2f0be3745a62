import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MetaQuorum
import S3Protocol
import Testing

/// Goal: tagging and CORS as the gateway serves them: tagging needs the bucket owner or a policy (no ACL
/// grants it), x-amz-tagging-count follows the tags, the preflight is anonymous and answered from the rules,
/// and ordinary responses carry the CORS headers. Method: the real `S3Gateway` in process, root and bob.
@Suite struct TaggingCORSGatewayTests {
    typealias G = InProcessGateway

    static let tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>blue</Value></Tag></TagSet></Tagging>"

    @Test func taggingNeedsTheOwnerOrAPolicy() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/shared", headers: [("x-amz-acl", "public-read-write")]).status == .ok)
            #expect(try await G.send(client, .root, .put, "/shared/k", headers: [("x-amz-acl", "public-read-write")],
                                     body: "x").status == .ok)
            // A public-read-write ACL lets bob read the object but not its tags, and not tag it.
            #expect(try await G.send(client, .bob, .get, "/shared/k").status == .ok)
            #expect(try await G.send(client, .bob, .get, "/shared/k", query: "tagging=").status == .forbidden)
            #expect(try await G.send(client, .bob, .put, "/shared/k", query: "tagging=", body: Self.tagging).status
                == .forbidden)
            #expect(try await G.send(client, .bob, .get, "/shared", query: "tagging=").status == .forbidden)
            // The owner may; the count appears on HEAD.
            #expect(try await G.send(client, .root, .put, "/shared/k", query: "tagging=", body: Self.tagging).status == .ok)
            let head = try await G.send(client, .root, .head, "/shared/k")
            #expect(head.headers[HTTPField.Name("x-amz-tagging-count")!] == "1")
            let got = try await G.send(client, .root, .get, "/shared/k", query: "tagging=")
            #expect(got.element("Key") == "team" && got.element("Value") == "blue")
            // A policy granting s3:GetObjectTagging to everyone opens the tags.
            let policy = """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjectTagging",\
                "Resource":"arn:aws:s3:::shared/*"}]}
                """
            #expect(try await G.send(client, .root, .put, "/shared", query: "policy=", body: policy).status == .noContent)
            #expect(try await G.send(client, .bob, .get, "/shared/k", query: "tagging=").status == .ok)
            #expect(try await G.send(client, .bob, .delete, "/shared/k", query: "tagging=").status == .forbidden)
            // Bad tags get S3's codes.
            let bad = try await G.send(client, .root, .put, "/shared/k", query: "tagging=",
                                       body: "<Tagging><TagSet><Tag><Key>aws:x</Key><Value>v</Value></Tag></TagSet></Tagging>")
            #expect(bad.status == .badRequest && bad.element("Code") == "InvalidTag")
            #expect(try await G.send(client, .root, .put, "/shared/k", query: "tagging=", body: "<Tagging/>")
                .element("Code") == "MalformedXML")
        }
    }

    // Goal: as in AWS, a write that sets tags (PutObject with x-amz-tagging, a copy) needs s3:PutObjectTagging
    // besides s3:PutObject, and a copy that copies a tagged source's tags needs s3:GetObjectTagging on it.
    @Test func writesThatTagNeedTaggingPermission() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/open", headers: [("x-amz-acl", "public-read-write")]).status == .ok)
            #expect(try await G.send(client, .bob, .put, "/open/plain", body: "x").status == .ok)
            let tagged = try await G.send(client, .bob, .put, "/open/tagged", headers: [("x-amz-tagging", "a=1")], body: "x")
            #expect(tagged.status == .forbidden)
            #expect(try await G.send(client, .bob, .post, "/open/mp", query: "uploads=",
                                     headers: [("x-amz-tagging", "a=1")]).status == .forbidden)
            #expect(try await G.send(client, .root, .put, "/open/src", headers: [("x-amz-tagging", "a=1"),
                                                                               ("x-amz-acl", "public-read")],
                                     body: "s").status == .ok)
            // bob may read the source, not its tags: a COPY of them is refused, a REPLACE without tags is not.
            #expect(try await G.send(client, .bob, .put, "/open/copy", headers: [("x-amz-copy-source", "open/src")]).status
                == .forbidden)
            #expect(try await G.send(client, .bob, .put, "/open/copy", headers: [
                ("x-amz-copy-source", "open/src"), ("x-amz-tagging-directive", "REPLACE"),
            ]).status == .ok)
            let policy = """
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",                "Action":["s3:PutObjectTagging","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::open/*"}]}
                """
            #expect(try await G.send(client, .root, .put, "/open", query: "policy=", body: policy).status == .noContent)
            #expect(try await G.send(client, .bob, .put, "/open/tagged", headers: [("x-amz-tagging", "a=1")], body: "x")
                .status == .ok)
            #expect(try await G.send(client, .bob, .put, "/open/copy", headers: [("x-amz-copy-source", "open/src")]).status
                == .ok)
            #expect(try await G.send(client, .root, .get, "/open/copy", query: "tagging=").element("Key") == "a")
        }
    }

    @Test func preflightAndResponseHeaders() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/site").status == .ok)
            let preflight: [(String, String)] = [("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET")]
            let none = try await G.send(client, .anonymous, .options, "/site/index.html", headers: preflight)
            #expect(none.status == .forbidden && none.element("Code") == "AccessForbidden")
            let cors = """
                <CORSConfiguration><CORSRule><AllowedOrigin>https://*.example</AllowedOrigin>\
                <AllowedMethod>GET</AllowedMethod><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>
                """
            #expect(try await G.send(client, .root, .put, "/site", query: "cors=", body: cors).status == .ok)
            let allowed = try await G.send(client, .anonymous, .options, "/site/index.html", headers: preflight)
            #expect(allowed.status == .ok)
            #expect(allowed.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://app.example")
            #expect(allowed.headers[HTTPField.Name("Access-Control-Allow-Methods")!] == "GET")
            #expect(allowed.headers[HTTPField.Name("Access-Control-Expose-Headers")!] == "ETag")
            let put = try await G.send(client, .anonymous, .options, "/site/index.html",
                                       headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "PUT")])
            #expect(put.status == .forbidden)
            #expect(try await G.send(client, .anonymous, .options, "/site/index.html").status == .badRequest)
            // A signed request with an Origin gets the rule's headers, on errors too (404 here).
            let missing = try await G.send(client, .root, .get, "/site/none", headers: [("Origin", "https://app.example")])
            #expect(missing.status == .notFound)
            #expect(missing.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "https://app.example")
            let other = try await G.send(client, .root, .get, "/site/none", headers: [("Origin", "https://evil.test")])
            #expect(other.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == nil)
            let stored = try await G.send(client, .root, .get, "/site", query: "cors=")
            #expect(stored.element("AllowedOrigin") == "https://*.example")
            #expect(try await G.send(client, .root, .delete, "/site", query: "cors=").status == .noContent)
            #expect(try await G.send(client, .root, .get, "/site", query: "cors=").element("Code") == "NoSuchCORSConfiguration")
        }
    }
}
