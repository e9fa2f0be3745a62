import BlobNode
import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MetaQuorum
import NIOCore
import Placement
import S3Protocol
import Testing

/// An `S3Gateway` over an embedded metadata service and a local chunk store in a temporary directory,
/// driven through Hummingbird's router test client: no socket, no server process, milliseconds a test.
struct InProcessGateway {
    static let root = (accessKeyID: "AKIAROUTERTESTS00001",
                           secretAccessKey: "router-tests-secret-key-0000000000000000")
    static let bob = (id: "u:bob", accessKeyID: "AKIAROUTERTESTSBOB01",
                      secretAccessKey: "router-tests-bob-secret-000000000000000")

    /// Runs `body` with a client of a fresh gateway; removes everything afterwards.
    static func with(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "silo-router-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "router-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        var blobOptions = LocalChunkStore.Options()
        blobOptions.logger = logger
        blobOptions.freeSpaceFloorBytes = 0
        let blobs = try await LocalChunkStore.open(directory: directory + "/blobs", options: blobOptions)
        let metadata = try await EmbeddedMetadataService(directory: directory + "/meta", logger: logger,
                                                         freeSpaceFloorBytes: 0)
        do {
            try await GatewayServer.ensureRootUser(accessKeyID: root.accessKeyID, secretAccessKey: root.secretAccessKey, metadata: metadata)
            // A second, ordinary user for the access-control tests.
            try await metadata.createUser(
                UserRecord(id: bob.id, name: "bob", accessKeyID: bob.accessKeyID, secretAccessKey: bob.secretAccessKey,
                           isRoot: false, createdTime: 1),
                commandID: "create-bob")
            let ring = try Ring(epoch: 1, nodes: [RingNode(id: 1, zone: nil, weight: 1)], vnodesPerWeightUnit: 8)
            let cluster = BlobCluster(ring: ring, stores: [1: blobs], replicaCount: 1)
            let gateway = S3Gateway(metadata: metadata, cluster: cluster, configuration: GatewayConfiguration(),
                                    logger: logger)
            let app = Application(responder: gateway, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                  logger: logger)
            try await app.test(.router) { client in try await body(client) }
        } catch {
            await metadata.close()
            await blobs.close()
            throw error
        }
        await metadata.close()
        await blobs.close()
    }

    /// Headers that sign `method path?query` with an empty body as the root user, for host `localhost`
    /// (the authority the router test client sends).
    static func signedHeaders(method: HTTPRequest.Method, path: String, query: String = "") -> HTTPFields {
        let signed = SigV4Signer.sign(
            method: method.rawValue, rawPath: path, rawQuery: query, headers: [("host", "localhost")], body: [],
            accessKeyID: root.accessKeyID, secretAccessKey: root.secretAccessKey, region: "us-east-1",
            service: "s3", nowMilliseconds: S3Gateway.wallClockMilliseconds())
        var fields = HTTPFields()
        for (name, value) in signed where name != "host" { fields[HTTPField.Name(name)!] = value }
        return fields
    }

    /// Sends a signed request with an empty body.
    static func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String,
                     query: String = "") async throws -> TestResponse {
        try await client.execute(uri: query.isEmpty ? path : path + "?" + query, method: method,
                                 headers: signedHeaders(method: method, path: path, query: query))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var requestID: String? { headers[HTTPField.Name("x-amz-request-id")!] }

    /// The text of the first `<name>` element of an XML body.
    func element(_ name: String) -> String? {
        guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}

/// Goal: the router, the one error mapping and the headers every response carries, checked in process
/// (the Python suite checks the same against the binary, with real clients, in minutes).
@Suite struct RouterTests {
    @Test func signedListBucketsSucceeds() async throws {
        try await InProcessGateway.with { client in
            let response = try await InProcessGateway.send(client, .get, "/")
            #expect(response.status == .ok)
            #expect(response.text.contains("<ListAllMyBucketsResult"))
            #expect(response.requestID?.isEmpty == false)
            #expect(response.headers[.server] == "Silo")
        }
    }

    @Test func anUnsignedRequestIsAccessDenied() async throws {
        try await InProcessGateway.with { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.status == .forbidden)
            #expect(response.element("Code") == "AccessDenied")
        }
    }

    @Test func anUnknownSubresourceNamesTheOperation() async throws {
        try await InProcessGateway.with { client in
            let created = try await InProcessGateway.send(client, .put, "/bucket-one")
            #expect(created.status == .ok)
            let response = try await InProcessGateway.send(client, .get, "/bucket-one", query: "website=")
            #expect(response.status == .notImplemented)
            #expect(response.element("Code") == "NotImplemented")
            #expect(response.element("Message")?.contains("GetBucketWebsite") == true)
        }
    }

    @Test func aBadBucketNameIsAnS3XMLError() async throws {
        try await InProcessGateway.with { client in
            let response = try await InProcessGateway.send(client, .put, "/Bad_Bucket")
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/xml")
            #expect(response.text.hasPrefix("<?xml"))
            #expect(response.element("Code") == "InvalidBucketName")
            #expect(response.element("Message")?.isEmpty == false)
            #expect(response.element("Resource") == "/Bad_Bucket")
            // The id in the body is the id in the header, so a client's log matches the server's.
            #expect(response.requestID != nil)
            #expect(response.element("RequestId") == response.requestID)
        }
    }

    @Test func aHeadErrorHasStatusAndHeadersButNoBody() async throws {
        try await InProcessGateway.with { client in
            let response = try await InProcessGateway.send(client, .head, "/no-such-bucket/key")
            #expect(response.status == .notFound)
            #expect(response.body.readableBytes == 0)
            #expect(response.requestID?.isEmpty == false)
        }
    }

    @Test func missingObjectAndBucketAreTyped() async throws {
        try await InProcessGateway.with { client in
            let noBucket = try await InProcessGateway.send(client, .get, "/no-such-bucket/key")
            #expect(noBucket.status == .notFound)
            #expect(noBucket.element("Code") == "NoSuchBucket")
            #expect(try await InProcessGateway.send(client, .put, "/bucket-two").status == .ok)
            let noKey = try await InProcessGateway.send(client, .get, "/bucket-two/missing")
            #expect(noKey.status == .notFound)
            #expect(noKey.element("Code") == "NoSuchKey")
            #expect(noKey.element("Resource") == "/bucket-two/missing")
        }
    }
}
