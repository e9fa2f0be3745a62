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
