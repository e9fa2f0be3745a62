import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MetaQuorum
import S3Protocol
import Testing

/// Who sends a request in these tests.
enum Caller {
    case root, bob, anonymous

    var keys: (accessKeyID: String, secretAccessKey: String)? {
        switch self {
        case .root: (InProcessGateway.root.accessKeyID, InProcessGateway.root.secretAccessKey)
        case .bob: (InProcessGateway.bob.accessKeyID, InProcessGateway.bob.secretAccessKey)
        case .anonymous: nil
        }
    }
}

extension InProcessGateway {
    /// Sends `method path?query` with `headers` and `body`, signed as `caller` (or unsigned).
    static func send(_ client: any TestClientProtocol, _ caller: Caller, _ method: HTTPRequest.Method, _ path: String,
                     query: String = "", headers extra: [(String, String)] = [], body: String = "") async throws
        -> TestResponse
    {
        var fields = HTTPFields()
        for (name, value) in extra { fields[HTTPField.Name(name)!] = value }
        if let keys = caller.keys {
            let signed = SigV4Signer.sign(
                method: method.rawValue, rawPath: path, rawQuery: query,
                headers: [("host", "localhost")] + extra.map { (name: $0.0, value: $0.1) }, body: Array(body.utf8),
                accessKeyID: keys.accessKeyID, secretAccessKey: keys.secretAccessKey, region: "us-east-1",
                service: "s3", nowMilliseconds: S3Gateway.wallClockMilliseconds())
            for (name, value) in signed where name != "host" { fields[HTTPField.Name(name)!] = value }
        }
        return try await client.execute(uri: query.isEmpty ? path : path + "?" + query, method: method, headers: fields,
                                        body: ByteBuffer(string: body))
    }
}

/// Goal: anonymous requests reach exactly what an ACL opens to everyone and nothing else; another user
/// reaches a bucket as far as its grants go and owns what it writes; ownership controls disable ACLs; bad
/// ACL input gets S3's error codes. Method: the real `S3Gateway` in process (`InProcessGateway`), root
/// and bob as users, requests signed or not.
@Suite struct AccessTests {
    typealias G = InProcessGateway
    static let bobCanonicalID = ACLResolver.canonicalID(InProcessGateway.bob.id)

    @Test func anonymousReachesOnlyWhatIsPublic() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/photos").status == .ok)
            #expect(try await G.send(client, .root, .put, "/photos/private.txt", body: "secret").status == .ok)
            #expect(try await G.send(client, .root, .put, "/photos/public.txt", headers: [("x-amz-acl", "public-read")],
                                     body: "hello").status == .ok)
            let publicGet = try await G.send(client, .anonymous, .get, "/photos/public.txt")
            #expect(publicGet.status == .ok)
            #expect(publicGet.text == "hello")
            let privateGet = try await G.send(client, .anonymous, .get, "/photos/private.txt")
            #expect(privateGet.status == .forbidden)
            #expect(privateGet.element("Code") == "AccessDenied")
            #expect(!privateGet.text.contains("secret"))
            // Not allowed to list: a missing key is not revealed.
            #expect(try await G.send(client, .anonymous, .get, "/photos/none").element("Code") == "AccessDenied")
            #expect(try await G.send(client, .anonymous, .get, "/photos").status == .forbidden)
            #expect(try await G.send(client, .anonymous, .get, "/photos/public.txt", query: "acl=").status == .forbidden)
            #expect(try await G.send(client, .anonymous, .put, "/photos/new", body: "x").status == .forbidden)
            #expect(try await G.send(client, .anonymous, .delete, "/photos/public.txt").status == .forbidden)
            #expect(try await G.send(client, .anonymous, .delete, "/photos").status == .forbidden)
            #expect(try await G.send(client, .anonymous, .put, "/anon-bucket").status == .forbidden)
            #expect(try await G.send(client, .anonymous, .get, "/no-such-bucket/k").element("Code") == "NoSuchBucket")
            // A request that tries to sign and fails is refused, never treated as anonymous.
            let forged = try await client.execute(uri: "/photos/public.txt", method: .get,
                                                  headers: [.authorization: "AWS4-HMAC-SHA256 Credential=nobody"])
            #expect(forged.status != .ok)

            // A public-read bucket lists to everyone; a missing key is then NoSuchKey.
            #expect(try await G.send(client, .root, .put, "/photos", query: "acl=", headers: [("x-amz-acl", "public-read")])
                .status == .ok)
            let listing = try await G.send(client, .anonymous, .get, "/photos")
            #expect(listing.status == .ok)
            #expect(listing.text.contains("<Key>private.txt</Key>"))
            #expect(try await G.send(client, .anonymous, .get, "/photos/none").element("Code") == "NoSuchKey")
            #expect(try await G.send(client, .anonymous, .get, "/photos/private.txt").status == .forbidden)

            // public-read-write: anonymous writes, and the bucket owner owns what they write.
            #expect(try await G.send(client, .root, .put, "/drop", headers: [("x-amz-acl", "public-read-write")]).status == .ok)
            #expect(try await G.send(client, .anonymous, .put, "/drop/file", body: "from nobody").status == .ok)
            let acl = try await G.send(client, .root, .get, "/drop/file", query: "acl=")
            #expect(acl.status == .ok)
            #expect(try await G.send(client, .root, .get, "/drop/file").text == "from nobody")
        }
    }

    // Goal: no operation lets an unsigned request reach a private bucket: every one of them answers 403
    // (or 501 for what Silo does not implement, 405 for a wrong method), nothing changes, nothing crashes.
    @Test func anonymousRequestsReachNothingPrivate() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/vault").status == .ok)
            #expect(try await G.send(client, .root, .put, "/vault/k", body: "secret").status == .ok)
            let upload = try await G.send(client, .root, .post, "/vault/mp", query: "uploads=")
            let uploadID = try #require(upload.element("UploadId"))
            let deleteBody = "<Delete><Object><Key>k</Key></Object></Delete>"
            let requests: [(HTTPRequest.Method, String, String, String, [(String, String)])] = [
                (.get, "/vault", "", "", []), (.get, "/vault", "list-type=2", "", []), (.head, "/vault", "", "", []),
                (.get, "/vault", "location=", "", []), (.get, "/vault", "uploads=", "", []),
                (.get, "/vault", "versions=", "", []), (.get, "/vault", "acl=", "", []),
                (.put, "/vault", "acl=", "", [("x-amz-acl", "public-read")]), (.delete, "/vault", "", "", []),
                (.get, "/vault", "ownershipControls=", "", []), (.delete, "/vault", "ownershipControls=", "", []),
                (.get, "/vault", "policy=", "", []), (.delete, "/vault", "policy=", "", []),
                (.put, "/vault", "policy=", "{}", []), (.get, "/vault", "policyStatus=", "", []),
                (.post, "/vault", "delete=", deleteBody, [("content-md5", "")]),
                (.get, "/vault/k", "", "", []), (.head, "/vault/k", "", "", []), (.get, "/vault/k", "acl=", "", []),
                (.put, "/vault/k", "acl=", "", [("x-amz-acl", "public-read")]),
                (.get, "/vault/k", "attributes=", "", [("x-amz-object-attributes", "ETag")]),
                (.put, "/vault/k", "", "overwrite", []), (.delete, "/vault/k", "", "", []),
                (.put, "/vault/copy", "", "", [("x-amz-copy-source", "/vault/k")]),
                (.post, "/vault/mp2", "uploads=", "", []),
                (.put, "/vault/mp", "partNumber=1&uploadId=\(uploadID)", "part", []),
                (.get, "/vault/mp", "uploadId=\(uploadID)", "", []),
                (.delete, "/vault/mp", "uploadId=\(uploadID)", "", []),
                (.post, "/vault/mp", "uploadId=\(uploadID)", "<CompleteMultipartUpload/>", []),
                (.get, "/", "", "", []), (.put, "/anon-new", "", "", []), (.get, "/vault", "website=", "", []),
                (.get, "/_silo/admin/users", "", "", []),
            ]
            for (method, path, query, body, headers) in requests {
                let response = try await G.send(client, .anonymous, method, path, query: query, headers: headers, body: body)
                #expect([.forbidden, .notImplemented].contains(response.status),
                        "\(method) \(path)?\(query): \(response.status) \(response.text)")
                #expect(!response.text.contains("secret"))
            }
            #expect(try await G.send(client, .root, .get, "/vault/k").text == "secret")
            #expect(try await G.send(client, .root, .get, "/vault", query: "uploads=").text.contains(uploadID))
            #expect(try await G.send(client, .root, .get, "/vault", query: "acl=").text.components(separatedBy: "<Grant>").count == 2)
        }
    }

    @Test func grantsLetAnotherUserInAndWritersOwnTheirObjects() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/shared").status == .ok)
            #expect(try await G.send(client, .root, .put, "/shared/root.txt", body: "root's").status == .ok)
            #expect(try await G.send(client, .bob, .get, "/shared").status == .forbidden)
            #expect(try await G.send(client, .bob, .put, "/shared/bob.txt", body: "bob's").status == .forbidden)

            // READ and WRITE to bob by canonical id, by header.
            let grant = "id=\"\(Self.bobCanonicalID)\""
            // Root's canonical id, as ListBuckets reports its owner.
            let rootID = try #require(try await G.send(client, .root, .get, "/").element("ID"))
            let put = try await G.send(client, .root, .put, "/shared", query: "acl=", headers: [
                ("x-amz-grant-read", grant), ("x-amz-grant-write", grant), ("x-amz-grant-full-control", "id=\(rootID)"),
            ])
            #expect(put.status == .ok, "\(put.text)")
            #expect(try await G.send(client, .bob, .get, "/shared").status == .ok)
            #expect(try await G.send(client, .bob, .put, "/shared/bob.txt", body: "bob's").status == .ok)
            // Bucket READ is not object READ: root's object stays root's.
            #expect(try await G.send(client, .bob, .get, "/shared/root.txt").status == .forbidden)
            // bob owns what he wrote: the bucket owner cannot read it without a grant, bob can.
            #expect(try await G.send(client, .bob, .get, "/shared/bob.txt").text == "bob's")
            #expect(try await G.send(client, .root, .get, "/shared/bob.txt").status == .forbidden)
            let bobACL = try await G.send(client, .bob, .get, "/shared/bob.txt", query: "acl=")
            #expect(bobACL.text.contains("<ID>\(Self.bobCanonicalID)</ID>"))
            // bob grants the bucket owner read, by an AccessControlPolicy document with an email-style name.
            let document = """
                <AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                <Owner><ID>\(Self.bobCanonicalID)</ID></Owner><AccessControlList>
                <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>\(Self.bobCanonicalID)</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>
                <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail"><EmailAddress>root@example.com</EmailAddress></Grantee><Permission>READ</Permission></Grant>
                </AccessControlList></AccessControlPolicy>
                """
            let putACL = try await G.send(client, .bob, .put, "/shared/bob.txt", query: "acl=", body: document)
            #expect(putACL.status == .ok, "\(putACL.text)")
            #expect(try await G.send(client, .root, .get, "/shared/bob.txt").text == "bob's")
            // Only a WRITE_ACP holder changes a bucket's ACL; the bucket owner may always delete bob's object.
            #expect(try await G.send(client, .bob, .put, "/shared", query: "acl=", headers: [("x-amz-acl", "public-read")])
                .status == .forbidden)
            #expect(try await G.send(client, .bob, .delete, "/shared").status == .forbidden)
            #expect(try await G.send(client, .root, .delete, "/shared/bob.txt").status == .noContent)
        }
    }

    @Test func ownershipControlsDisableACLs() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/owned", headers: [("x-amz-object-ownership", "BucketOwnerEnforced")])
                .status == .ok)
            let get = try await G.send(client, .root, .get, "/owned", query: "ownershipControls=")
            #expect(get.element("ObjectOwnership") == "BucketOwnerEnforced")
            let refused = try await G.send(client, .root, .put, "/owned", query: "acl=", headers: [("x-amz-acl", "public-read")])
            #expect(refused.element("Code") == "AccessControlListNotSupported")
            let object = try await G.send(client, .root, .put, "/owned/k", headers: [("x-amz-acl", "public-read")], body: "x")
            #expect(object.element("Code") == "AccessControlListNotSupported")
            #expect(try await G.send(client, .root, .put, "/owned/k", headers: [("x-amz-acl", "bucket-owner-full-control")],
                                     body: "x").status == .ok)
            #expect(try await G.send(client, .root, .put, "/mixed", headers: [
                ("x-amz-object-ownership", "BucketOwnerEnforced"), ("x-amz-acl", "public-read"),
            ]).element("Code") == "InvalidBucketAclWithObjectOwnership")
            #expect(try await G.send(client, .root, .delete, "/owned", query: "ownershipControls=").status == .noContent)
            #expect(try await G.send(client, .root, .get, "/owned", query: "ownershipControls=").element("Code")
                == "OwnershipControlsNotFoundError")
            #expect(try await G.send(client, .root, .put, "/owned", query: "acl=", headers: [("x-amz-acl", "public-read")])
                .status == .ok)
            let body = "<OwnershipControls><Rule><ObjectOwnership>Nonsense</ObjectOwnership></Rule></OwnershipControls>"
            #expect(try await G.send(client, .root, .put, "/owned", query: "ownershipControls=", body: body)
                .element("Code") == "MalformedXML")
            #expect(try await G.send(client, .bob, .get, "/owned", query: "ownershipControls=").status == .forbidden)
        }
    }

    @Test func badACLInputGetsS3Errors() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/acl-bucket").status == .ok)
            let cases: [([(String, String)], String, String)] = [
                ([("x-amz-acl", "public-everything")], "", "InvalidArgument"),
                ([("x-amz-grant-read", "emailAddress=\"nobody@example.com\"")], "", "UnresolvableGrantByEmailAddress"),
                ([("x-amz-grant-read", "id=\"0000\"")], "", "InvalidArgument"),
                ([("x-amz-grant-read", "uri=\"http://acs.amazonaws.com/groups/global/Everyone\"")], "", "InvalidArgument"),
                ([("x-amz-grant-read", "nonsense")], "", "InvalidArgument"),
                ([("x-amz-acl", "private"), ("x-amz-grant-read", "uri=\"\(ACLResolver.allUsersURI)\"")], "", "InvalidRequest"),
                ([], "<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
                 "MalformedACLError"),
                ([], "<AccessControlPolicy><AccessControlList><Grant><Grantee><URI>\(ACLResolver.allUsersURI)</URI></Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>",
                 "MalformedACLError"),
                ([], "<NotAnACL/>", "MalformedACLError"),
                ([], "<AccessControlPolicy", "MalformedXML"),
            ]
            for (headers, body, code) in cases {
                let response = try await G.send(client, .root, .put, "/acl-bucket", query: "acl=", headers: headers, body: body)
                #expect(response.element("Code") == code, "\(headers) \(body)")
                #expect(response.status == .badRequest, "\(headers) \(body)")
            }
            // After all those, the ACL is unchanged: owner only.
            let acl = try await G.send(client, .root, .get, "/acl-bucket", query: "acl=")
            #expect(acl.text.components(separatedBy: "<Grant>").count == 2)
        }
    }

    @Test func bucketPoliciesAllowDenyAndValidate() async throws {
        try await G.with { client in
            #expect(try await G.send(client, .root, .put, "/site").status == .ok)
            for key in ["public/a.txt", "public/secret.txt", "private/b.txt"] {
                #expect(try await G.send(client, .root, .put, "/site/" + key, body: key).status == .ok)
            }
            #expect(try await G.send(client, .root, .get, "/site", query: "policy=").element("Code") == "NoSuchBucketPolicy")
            let policy = """
                {"Version":"2012-10-17","Statement":[
                 {"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/public/*"},
                 {"Sid":"Secret","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/public/secret*"},
                 {"Sid":"BobLists","Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::site",
                  "Condition":{"StringLike":{"s3:prefix":"public/*"}}}]}
                """
            #expect(try await G.send(client, .bob, .put, "/site", query: "policy=", body: policy).status == .forbidden)
            let put = try await G.send(client, .root, .put, "/site", query: "policy=", body: policy)
            #expect(put.status == .noContent, "\(put.text)")
            #expect(try await G.send(client, .root, .get, "/site", query: "policy=").text == policy)
            #expect(try await G.send(client, .root, .get, "/site", query: "policyStatus=").element("IsPublic") == "true")

            #expect(try await G.send(client, .anonymous, .get, "/site/public/a.txt").text == "public/a.txt")
            #expect(try await G.send(client, .anonymous, .get, "/site/public/secret.txt").status == .forbidden)
            #expect(try await G.send(client, .anonymous, .get, "/site/private/b.txt").status == .forbidden)
            // The Deny binds the owner too, except for managing the policy itself.
            #expect(try await G.send(client, .root, .get, "/site/public/secret.txt").status == .forbidden)
            #expect(try await G.send(client, .root, .get, "/site/private/b.txt").status == .ok)
            // A condition on the listing prefix.
            #expect(try await G.send(client, .bob, .get, "/site", query: "prefix=public%2F").status == .ok)
            #expect(try await G.send(client, .bob, .get, "/site", query: "prefix=private%2F").status == .forbidden)
            #expect(try await G.send(client, .bob, .get, "/site").status == .forbidden)

            let malformed = [
                "{not json", "{\"Statement\":[]}",
                "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::elsewhere/*\"}}",
            ]
            for document in malformed {
                let response = try await G.send(client, .root, .put, "/site", query: "policy=", body: document)
                #expect(response.element("Code") == "MalformedPolicy", "\(document)")
                #expect(response.status == .badRequest)
            }
            // A Deny of everything does not lock the owner out of the policy.
            let lockout = """
                {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",
                 "Resource":["arn:aws:s3:::site","arn:aws:s3:::site/*"]}]}
                """
            #expect(try await G.send(client, .root, .put, "/site", query: "policy=", body: lockout).status == .noContent)
            #expect(try await G.send(client, .root, .get, "/site").status == .forbidden)
            #expect(try await G.send(client, .root, .delete, "/site", query: "policy=").status == .noContent)
            #expect(try await G.send(client, .root, .get, "/site").status == .ok)
            #expect(try await G.send(client, .root, .delete, "/site", query: "policy=").status == .noContent)
            #expect(try await G.send(client, .anonymous, .get, "/site/public/a.txt").status == .forbidden)
        }
    }

    @Test func authorizerTable() {
        let owner = "u:owner"
        let other = AccessPrincipal.user(id: "u:other")
        let bucket = BucketRecord(name: "b", owner: owner, createdTime: 1, acl: AccessControlList(grants: [
            ACLGrant(grantee: .user(id: owner), permission: .fullControl),
            ACLGrant(grantee: .authenticatedUsers, permission: .read),
        ]))
        var legacy = ObjectRecord(bucket: "b", key: "k", versionID: "v", sizeBytes: 0, etag: "e", lastModifiedTime: 1,
                                  headers: [], userMetadata: [], checksum: nil, chunks: [], partSizes: [])
        func allows(_ principal: AccessPrincipal, _ action: S3Action, _ bucket: BucketRecord, _ object: ObjectRecord? = nil)
            -> Bool
        {
            Authorizer.allows(AccessRequest(principal: principal, action: action, bucket: bucket, object: object, key: "k"))
        }
        #expect(allows(other, .listBucket, bucket))
        #expect(!allows(.anonymous, .listBucket, bucket))
        #expect(!allows(other, .putObject, bucket))
        #expect(allows(.user(id: owner), .deleteBucket, bucket))
        #expect(!allows(other, .deleteBucket, bucket))
        #expect(!allows(other, .putBucketPolicy, bucket))
        // A record from before ACLs is the bucket owner's alone.
        #expect(allows(.user(id: owner), .getObject, bucket, legacy))
        #expect(!allows(other, .getObject, bucket, legacy))
        // The owner keeps READ_ACP/WRITE_ACP even after removing their own grants.
        legacy.owner = "u:writer"
        legacy.acl = AccessControlList(grants: [])
        #expect(allows(.user(id: "u:writer"), .getObjectAcl, bucket, legacy))
        #expect(allows(.user(id: "u:writer"), .putObjectAcl, bucket, legacy))
        #expect(!allows(.user(id: "u:writer"), .getObject, bucket, legacy))
        #expect(!allows(.user(id: owner), .getObject, bucket, legacy))
        // Enforced: ACLs are ignored, the bucket owner may do everything, others nothing.
        var enforced = bucket
        enforced.ownership = .bucketOwnerEnforced
        #expect(allows(.user(id: owner), .getObject, enforced, legacy))
        #expect(!allows(other, .listBucket, enforced))
        #expect(!allows(.user(id: "u:writer"), .getObject, enforced, legacy))
        // No object: object actions are refused (the handler answers NoSuchKey or AccessDenied).
        #expect(!allows(.user(id: owner), .getObject, bucket, nil))
    }

    // Goal: the public access block's two evaluation switches. IgnorePublicAcls drops AllUsers and
    // AuthenticatedUsers grants from bucket and object ACLs alike (a user's own grant still counts);
    // RestrictPublicBuckets withholds a public policy's Allows from anonymous callers only (the owner's
    // users keep them, and a Deny still refuses). Method: the pure Authorizer on records.
    @Test func publicAccessBlockEvaluation() throws {
        let owner = "u:owner"
        let publicRead = AccessControlList(grants: [
            ACLGrant(grantee: .user(id: owner), permission: .fullControl), ACLGrant(grantee: .allUsers, permission: .read),
            ACLGrant(grantee: .authenticatedUsers, permission: .write), ACLGrant(grantee: .user(id: "u:friend"), permission: .read),
        ])
        var bucket = BucketRecord(name: "b", owner: owner, createdTime: 1, acl: publicRead)
        var object = ObjectRecord(bucket: "b", key: "k", versionID: "v", sizeBytes: 0, etag: "e", lastModifiedTime: 1,
                                  headers: [], userMetadata: [], checksum: nil, chunks: [], partSizes: [])
        object.owner = owner
        object.acl = publicRead
        func allows(_ principal: AccessPrincipal, _ action: S3Action, _ object: ObjectRecord? = nil) -> Bool {
            Authorizer.allows(AccessRequest(principal: principal, action: action, bucket: bucket, object: object, key: "k"))
        }
        #expect(allows(.anonymous, .listBucket) && allows(.anonymous, .getObject, object))
        #expect(allows(.user(id: "u:stranger"), .putObject))
        bucket.publicAccessBlock = PublicAccessBlock(blockPublicAcls: false, ignorePublicAcls: true,
                                                     blockPublicPolicy: false, restrictPublicBuckets: false)
        #expect(!allows(.anonymous, .listBucket) && !allows(.anonymous, .getObject, object))
        #expect(!allows(.user(id: "u:stranger"), .putObject))
        #expect(allows(.user(id: "u:friend"), .listBucket) && allows(.user(id: "u:friend"), .getObject, object))

        bucket = BucketRecord(name: "b", owner: owner, createdTime: 1, policy: """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
              {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret"}]}
            """)
        object.acl = .ownerOnly(owner)
        #expect(allows(.anonymous, .getObject, object) && allows(.user(id: "u:stranger"), .getObject, object))
        bucket.publicAccessBlock = PublicAccessBlock(blockPublicAcls: false, ignorePublicAcls: false,
                                                     blockPublicPolicy: false, restrictPublicBuckets: true)
        #expect(!allows(.anonymous, .getObject, object))
        #expect(allows(.user(id: "u:stranger"), .getObject, object) && allows(.user(id: owner), .getObject, object))
        let secret = Authorizer.allows(AccessRequest(principal: .user(id: owner), action: .getObject, bucket: bucket,
                                                     object: object, key: "secret"))
        #expect(!secret)
        // The block is part of the access stamp (set), and a bucket without one keeps its old stamp.
        var plain = bucket
        plain.publicAccessBlock = nil
        #expect(plain.accessStamp != bucket.accessStamp)
        #expect(plain.accessStamp == BucketRecord(name: "b", owner: owner, createdTime: 1, policy: plain.policy).accessStamp)
    }
}
