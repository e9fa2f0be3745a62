import Testing

import S3Protocol

private let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
private let owner = S3Owner(id: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a", displayName: "webfile")

@Test func escaping() {
    // Goal: markup characters and control characters are escaped; other text passes unchanged.
    #expect(XMLWriter.escape("plain €") == "plain €")
    #expect(XMLWriter.escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;")
    #expect(XMLWriter.escape("x\ry\tz\u{1}") == "x&#xD;y&#x9;z&#x1;")
}

@Test func errorBody() {
    // Goal: the S3 error document shape, with extra fields before Resource and RequestId.
    let body = S3ErrorBody(
        code: "NoSuchKey", message: "The resource you requested does not exist", resource: "/mybucket/myfoto.jpg",
        requestID: "4442587FB7D0A2F9", extraFields: [.init(name: "Key", value: "myfoto.jpg")])
    #expect(body.xml() == declaration + "<Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message>"
        + "<Key>myfoto.jpg</Key><Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>")
}

@Test func listBucketsAndLocation() {
    // Goal: ListAllMyBucketsResult with Owner, and LocationConstraint's empty us-east-1 form.
    let result = ListAllMyBucketsResult(
        owner: owner, buckets: [.init(name: "examplebucket", creationDateMilliseconds: 1_255_369_830_000)])
    #expect(result.xml() == declaration + "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Owner><ID>\(owner.id)</ID><DisplayName>webfile</DisplayName></Owner>"
        + "<Buckets><Bucket><Name>examplebucket</Name><CreationDate>2009-10-12T17:50:30.000Z</CreationDate></Bucket></Buckets>"
        + "</ListAllMyBucketsResult>")
    // A paginated listing ends with the next page's token and the prefix asked for.
    let page = ListAllMyBucketsResult(owner: owner, buckets: [], continuationToken: "dG9r", prefix: "ex")
    #expect(page.xml().hasSuffix("<Buckets></Buckets><ContinuationToken>dG9r</ContinuationToken><Prefix>ex</Prefix></ListAllMyBucketsResult>"))
    #expect(LocationConstraintResult(region: "us-east-1").xml() == declaration
        + "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></LocationConstraint>")
    #expect(LocationConstraintResult(region: "eu-west-1").xml().contains(">eu-west-1</LocationConstraint>"))
}

@Test func listObjectsV2WithEncoding() {
    // Goal: ListObjectsV2 fields in AWS order; encoding-type=url encodes Key, Prefix, Delimiter, StartAfter and
    // CommonPrefixes but not the continuation tokens; Owner only when set (fetch-owner).
    let object = ListedObject(
        key: "photos/a b\u{1}.jpg", lastModifiedMilliseconds: 1_255_369_830_000, etag: "\"599bab3ed2c697f1d26842727561fd94\"",
        size: 857, owner: owner, checksumAlgorithms: [.crc32c], checksumType: .fullObject)
    let result = ListBucketV2Result(
        name: "bucket", prefix: "photos/", startAfter: "photos/a", continuationToken: "t+1", nextContinuationToken: "t/2",
        maxKeys: 1, delimiter: "/", isTruncated: true, contents: [object], commonPrefixes: ["photos/2006 x/"], encoding: .url)
    let xml = result.xml()
    #expect(xml.contains("<Name>bucket</Name><Prefix>photos/</Prefix><StartAfter>photos/a</StartAfter>"
        + "<ContinuationToken>t+1</ContinuationToken><NextContinuationToken>t/2</NextContinuationToken>"
        + "<KeyCount>2</KeyCount><MaxKeys>1</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
        + "<EncodingType>url</EncodingType>"))
    #expect(xml.contains("<Contents><Key>photos/a%20b%01.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
        + "<ETag>&quot;599bab3ed2c697f1d26842727561fd94&quot;</ETag><ChecksumAlgorithm>CRC32C</ChecksumAlgorithm>"
        + "<ChecksumType>FULL_OBJECT</ChecksumType><Size>857</Size><Owner><ID>\(owner.id)</ID><DisplayName>webfile</DisplayName></Owner>"
        + "<StorageClass>STANDARD</StorageClass></Contents>"))
    #expect(xml.contains("<CommonPrefixes><Prefix>photos/2006%20x/</Prefix></CommonPrefixes></ListBucketResult>"))
    var plain = result
    plain.encoding = nil
    #expect(plain.xml().contains("<Key>photos/a b&#x1;.jpg</Key>"))
}

@Test func listObjectVersions() {
    // Goal: ListVersionsResult in AWS's shape: markers, next markers, Version entries with VersionId and
    // IsLatest, common prefixes; encoding-type=url encodes keys, prefixes, delimiter and key markers only.
    let version = ListedVersion(
        key: "photos/a b.jpg", versionID: "null", isLatest: true, lastModifiedMilliseconds: 1_255_369_830_000,
        etag: "\"fba9dede5f27731c9771645a39863328\"", size: 434_234, owner: owner)
    let result = ListVersionsResult(
        name: "bucket", prefix: "photos/", keyMarker: "photos/0 a", versionIDMarker: "null",
        nextKeyMarker: "photos/a b.jpg", nextVersionIDMarker: "null", maxKeys: 2, delimiter: "/", isTruncated: true,
        versions: [version], commonPrefixes: ["photos/2006 x/"], encoding: .url)
    #expect(result.xml() == declaration + "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Name>bucket</Name><Prefix>photos/</Prefix><KeyMarker>photos/0%20a</KeyMarker>"
        + "<VersionIdMarker>null</VersionIdMarker><NextKeyMarker>photos/a%20b.jpg</NextKeyMarker>"
        + "<NextVersionIdMarker>null</NextVersionIdMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter>"
        + "<IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>"
        + "<Version><Key>photos/a%20b.jpg</Key><VersionId>null</VersionId><IsLatest>true</IsLatest>"
        + "<LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>"
        + "<Size>434234</Size><StorageClass>STANDARD</StorageClass>"
        + "<Owner><ID>\(owner.id)</ID><DisplayName>webfile</DisplayName></Owner></Version>"
        + "<CommonPrefixes><Prefix>photos/2006%20x/</Prefix></CommonPrefixes></ListVersionsResult>")
    var last = result
    last.isTruncated = false
    last.nextKeyMarker = nil
    last.nextVersionIDMarker = nil
    last.encoding = nil
    #expect(!last.xml().contains("Next"))
    #expect(last.xml().contains("<Key>photos/a b.jpg</Key>"))
}

@Test func accessControlPolicy() {
    // Goal: the AccessControlPolicy shape, with the CanonicalUser grantee typed by xsi:type.
    let result = AccessControlPolicyResult(owner: owner, grants: [.init(grantee: .canonicalUser(owner), permission: "FULL_CONTROL")])
    let ownerXML = "<ID>\(owner.id)</ID><DisplayName>webfile</DisplayName>"
    #expect(result.xml() == declaration + "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Owner>\(ownerXML)</Owner><AccessControlList><Grant>"
        + "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">\(ownerXML)</Grantee>"
        + "<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>")
}

@Test func getObjectAttributes() {
    // Goal: only the attributes set are written, in AWS's order; the ETag unquoted; ObjectParts carries
    // the page after the marker (numbers and sizes), whether more follow, and PartsCount.
    let page = GetObjectAttributesResult.ObjectPartsPage(sizes: [5, 5, 3], partNumberMarker: 1, maxParts: 1)
    #expect(page.isTruncated && page.parts.map(\.number) == [2])
    let all = GetObjectAttributesResult(
        etag: "fba9dede5f27731c9771645a39863328", checksum: ChecksumField(algorithm: .crc32, value: "dv+Mqg=="),
        checksumType: .fullObject, parts: page, storageClass: "STANDARD", objectSize: 434_234)
    #expect(all.xml() == declaration + "<GetObjectAttributesResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<ETag>fba9dede5f27731c9771645a39863328</ETag><Checksum><ChecksumCRC32>dv+Mqg==</ChecksumCRC32>"
        + "<ChecksumType>FULL_OBJECT</ChecksumType></Checksum><ObjectParts><IsTruncated>true</IsTruncated>"
        + "<MaxParts>1</MaxParts><NextPartNumberMarker>2</NextPartNumberMarker><PartNumberMarker>1</PartNumberMarker>"
        + "<Part><PartNumber>2</PartNumber><Size>5</Size></Part><PartsCount>3</PartsCount></ObjectParts>"
        + "<StorageClass>STANDARD</StorageClass><ObjectSize>434234</ObjectSize></GetObjectAttributesResponse>")
    let rest = GetObjectAttributesResult.ObjectPartsPage(sizes: [5, 5, 3], partNumberMarker: 1, maxParts: 10)
    #expect(!rest.isTruncated && rest.parts.map(\.size) == [5, 3])
    let past = GetObjectAttributesResult.ObjectPartsPage(sizes: [5], partNumberMarker: 7, maxParts: 10)
    #expect(!past.isTruncated && past.parts.isEmpty)
    let sizeOnly = GetObjectAttributesResult(etag: nil, checksum: nil, checksumType: nil, parts: nil,
                                             storageClass: nil, objectSize: 0)
    #expect(sizeOnly.xml().hasSuffix("\"><ObjectSize>0</ObjectSize></GetObjectAttributesResponse>"))
}

@Test func listObjectsV1PrefixIsNotEncoded() {
    // Goal: with encoding-type=url, v1 encodes markers, delimiter and keys but writes Prefix as given (AWS;
    // botocore does not decode a v1 Prefix).
    let result = ListBucketResult(
        name: "b", prefix: "\n a", marker: "m n", nextMarker: nil, maxKeys: 1, delimiter: " ", isTruncated: false,
        contents: [], commonPrefixes: ["\n a/"], encoding: .url)
    let xml = result.xml()
    #expect(xml.contains("<Prefix>\n a</Prefix><Marker>m%20n</Marker>"))
    #expect(xml.contains("<Delimiter>%20</Delimiter>"))
    #expect(xml.contains("<CommonPrefixes><Prefix>%0A%20a/</Prefix></CommonPrefixes>"))
}

@Test func listObjectsV1() {
    // Goal: v1 has Marker and NextMarker and no KeyCount.
    let result = ListBucketResult(
        name: "quotes", prefix: "N", marker: "Ned", nextMarker: "Nelson", maxKeys: 40, delimiter: nil, isTruncated: false,
        contents: [], commonPrefixes: [], encoding: nil)
    #expect(result.xml() == declaration + "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>quotes</Name>"
        + "<Prefix>N</Prefix><Marker>Ned</Marker><NextMarker>Nelson</NextMarker><MaxKeys>40</MaxKeys>"
        + "<IsTruncated>false</IsTruncated></ListBucketResult>")
}

@Test func multipartAndCopyResponses() {
    // Goal: the multipart and copy documents carry their fields and checksums.
    #expect(InitiateMultipartUploadResult(bucket: "b", key: "k&", uploadID: "u").xml().contains(
        "<Bucket>b</Bucket><Key>k&amp;</Key><UploadId>u</UploadId></InitiateMultipartUploadResult>"))
    let complete = CompleteMultipartUploadResult(
        location: "http://localhost/b/k", bucket: "b", key: "k", etag: "\"3858f62230ac3c915f300c664312c11f-9\"",
        checksums: [ChecksumField(algorithm: .crc32c, value: "abc=-9")], checksumType: .composite)
    #expect(complete.xml().contains("<ETag>&quot;3858f62230ac3c915f300c664312c11f-9&quot;</ETag>"
        + "<ChecksumCRC32C>abc=-9</ChecksumCRC32C><ChecksumType>COMPOSITE</ChecksumType>"))
    #expect(CopyResult(kind: .copyPart, lastModifiedMilliseconds: 0, etag: "\"e\"").xml().contains(
        "<CopyPartResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LastModified>1970-01-01T00:00:00.000Z</LastModified>"))
    let parts = ListPartsResult(
        bucket: "b", key: "k", uploadID: "u", partNumberMarker: 1, nextPartNumberMarker: 3, maxParts: 2, isTruncated: true,
        parts: [.init(partNumber: 2, lastModifiedMilliseconds: 0, etag: "\"e2\"", size: 5_242_880)], initiator: owner, owner: owner)
    #expect(parts.xml().contains("<Part><PartNumber>2</PartNumber><LastModified>1970-01-01T00:00:00.000Z</LastModified>"
        + "<ETag>&quot;e2&quot;</ETag><Size>5242880</Size></Part><Initiator>"))
    let uploads = ListMultipartUploadsResult(
        bucket: "b", keyMarker: "", uploadIDMarker: "", nextKeyMarker: "my movie", nextUploadIDMarker: "u2", prefix: "", delimiter: nil,
        maxUploads: 1, isTruncated: true,
        uploads: [.init(key: "my movie", uploadID: "u2", initiator: owner, owner: owner, initiatedMilliseconds: 0)],
        commonPrefixes: [], encoding: .url)
    #expect(uploads.xml().contains("<NextKeyMarker>my%20movie</NextKeyMarker>"))
    #expect(uploads.xml().contains("<Upload><Key>my%20movie</Key><UploadId>u2</UploadId>"))
}

@Test func deleteResultQuietMode() {
    // Goal: quiet mode lists only errors.
    let result = DeleteResult(
        deleted: [.init(key: "sample1.txt")], failures: [.init(key: "sample2.txt", code: "AccessDenied", message: "Access Denied")],
        quiet: false)
    #expect(result.xml().contains("<Deleted><Key>sample1.txt</Key></Deleted><Error><Key>sample2.txt</Key><Code>AccessDenied</Code>"))
    var quiet = result
    quiet.quiet = true
    #expect(!quiet.xml().contains("<Deleted>"))
    #expect(quiet.xml().contains("<Error>"))
}

@Test func completeMultipartUploadParsing() throws {
    // Goal: the AWS example body parses with PartNumber, ETag and checksums; malformed bodies are refused.
    let body = """
        <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag>
            <ChecksumCRC32C>sOO8/Q==</ChecksumCRC32C></Part>
          <Part><PartNumber>2</PartNumber><ETag>&quot;0c78aef83f66abc1fa1e8477f296d394&quot;</ETag></Part>
        </CompleteMultipartUpload>
        """
    let request = try CompleteMultipartUploadRequest.parse(Array(body.utf8))
    #expect(request.parts.map(\.partNumber) == [1, 2])
    #expect(request.parts.map(\.etag) == ["\"a54357aff0632cce46d942af68356b38\"", "\"0c78aef83f66abc1fa1e8477f296d394\""])
    #expect(request.parts[0].checksums == [ChecksumField(algorithm: .crc32c, value: "sOO8/Q==")])
    #expect(throws: XMLRequestError.malformedXML(reason: "no Part elements")) {
        try CompleteMultipartUploadRequest.parse(Array("<CompleteMultipartUpload/>".utf8))
    }
    #expect(throws: XMLRequestError.invalidPartNumber("0")) {
        try CompleteMultipartUploadRequest.parse(Array("<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>".utf8))
    }
    #expect(throws: XMLRequestError.self) { try CompleteMultipartUploadRequest.parse(Array("<CompleteMultipartUpload><Part>".utf8)) }
    #expect(throws: XMLRequestError.self) { try CompleteMultipartUploadRequest.parse(Array("<Delete></Delete>".utf8)) }
    #expect(throws: XMLRequestError.self) { try CompleteMultipartUploadRequest.parse(Array("garbage".utf8)) }
}

@Test func deleteObjectsParsing() throws {
    // Goal: keys kept exactly (spaces, entities), version ids, Quiet; at most 1000 objects.
    let body = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>
          <Object><Key> sample 1.txt </Key></Object>
          <Object><Key>a&amp;b&#xD;</Key><VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId></Object>
        </Delete>
        """
    let request = try DeleteObjectsRequest.parse(Array(body.utf8))
    #expect(request.quiet)
    #expect(request.objects == [.init(key: " sample 1.txt "), .init(key: "a&b\r", versionID: "OYcLXagmS.WaD..oyH4KRguB95_YhLs7")])
    let many = "<Delete>" + String(repeating: "<Object><Key>k</Key></Object>", count: 1001) + "</Delete>"
    #expect(throws: XMLRequestError.tooManyObjects(count: 1001)) { try DeleteObjectsRequest.parse(Array(many.utf8)) }
    #expect(throws: XMLRequestError.tooManyObjects(count: 0)) { try DeleteObjectsRequest.parse(Array("<Delete></Delete>".utf8)) }
    #expect(throws: XMLRequestError.malformedXML(reason: "Object without Key")) {
        try DeleteObjectsRequest.parse(Array("<Delete><Object></Object></Delete>".utf8))
    }
}

@Test func createBucketConfigurationParsing() throws {
    // Goal: empty body → no constraint; the AWS example → its region; junk → typed errors.
    #expect(try CreateBucketConfiguration.parse([]).locationConstraint == nil)
    let body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"
    #expect(try CreateBucketConfiguration.parse(Array(body.utf8)).locationConstraint == "eu-west-1")
    #expect(throws: XMLRequestError.invalidLocationConstraint("EU WEST")) {
        try CreateBucketConfiguration.parse(Array("<CreateBucketConfiguration><LocationConstraint>EU WEST</LocationConstraint></CreateBucketConfiguration>".utf8))
    }
    let deep = "<CreateBucketConfiguration>" + String(repeating: "<a>", count: 20) + String(repeating: "</a>", count: 20) + "</CreateBucketConfiguration>"
    #expect(throws: XMLRequestError.malformedXML(reason: "elements nested deeper than 16")) {
        try CreateBucketConfiguration.parse(Array(deep.utf8))
    }
}

@Test func largestCompleteFitsTheBodyLimit() throws {
    // Goal: a CompleteMultipartUpload of 10,000 parts, each with a quoted multipart-style ETag and every
    // checksum element, stays within `completePartXMLBytesMax` per part and so within the XML body limit
    // (the Gateway once refused such a body above 2 MiB).
    // Base64 lengths of each digest: 4, 4, 8, 20 and 32 bytes.
    let checksums: [(ChecksumAlgorithm, Int)] = [(.crc32, 8), (.crc32c, 8), (.crc64nvme, 12), (.sha1, 28), (.sha256, 44)]
    func part(_ number: Int) -> String {
        var text = "<Part><PartNumber>\(number)</PartNumber><ETag>&quot;\(String(repeating: "f", count: 32))-10000&quot;</ETag>"
        for (algorithm, length) in checksums {
            let value = String(repeating: "/", count: length - 1) + "="
            text += "<Checksum\(algorithm.rawValue)>\(value)</Checksum\(algorithm.rawValue)>"
        }
        return text + "</Part>"
    }
    #expect(part(S3Limits.partNumberMax).utf8.count <= S3Limits.completePartXMLBytesMax)
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + (1...S3Limits.partNumberMax).map(part).joined() + "</CompleteMultipartUpload>"
    #expect(body.utf8.count <= S3Limits.completeMultipartBodyBytesMax)
    #expect(S3Limits.completeMultipartBodyBytesMax <= S3Limits.xmlRequestBodyBytesMax)
    let request = try CompleteMultipartUploadRequest.parse(Array(body.utf8))
    #expect(request.parts.count == S3Limits.partNumberMax)
    #expect(request.parts.last?.checksums.count == checksums.count)
}

@Test func listObjectVersionsWithDeleteMarker() {
    // Goal: a delete marker is a <DeleteMarker> entry without ETag, Size or StorageClass, in listing order
    // among the <Version> entries.
    let marker = ListedVersion(
        key: "k", versionID: "3fa4", isLatest: true, lastModifiedMilliseconds: 1_255_369_830_000, etag: "\"\"",
        size: 0, owner: owner, isDeleteMarker: true)
    let version = ListedVersion(
        key: "k", versionID: "77aa", isLatest: false, lastModifiedMilliseconds: 1_255_369_830_000,
        etag: "\"fba9dede5f27731c9771645a39863328\"", size: 4, owner: owner)
    let result = ListVersionsResult(
        name: "bucket", prefix: "", keyMarker: "", versionIDMarker: "", nextKeyMarker: nil, nextVersionIDMarker: nil,
        maxKeys: 1000, delimiter: nil, isTruncated: false, versions: [marker, version], commonPrefixes: [],
        encoding: nil)
    let xml = result.xml()
    #expect(xml.contains("<DeleteMarker><Key>k</Key><VersionId>3fa4</VersionId><IsLatest>true</IsLatest>"
        + "<LastModified>2009-10-12T17:50:30.000Z</LastModified><Owner><ID>\(owner.id)</ID>"
        + "<DisplayName>webfile</DisplayName></Owner></DeleteMarker><Version><Key>k</Key><VersionId>77aa</VersionId>"
        + "<IsLatest>false</IsLatest>"))
}

@Test func versioningConfiguration() throws {
    // Goal: PutBucketVersioning bodies as SDKs send them parse; other Status values are malformed; the
    // GetBucketVersioning answer is empty before versioning was ever set.
    let body = Array(("<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        + "<Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>").utf8)
    #expect(try VersioningConfiguration.parse(body) == VersioningConfiguration(status: "Suspended", mfaDelete: "Disabled"))
    let empty = Array("<VersioningConfiguration/>".utf8)
    #expect(try VersioningConfiguration.parse(empty) == VersioningConfiguration(status: nil, mfaDelete: nil))
    let bad = Array("<VersioningConfiguration><Status>On</Status></VersioningConfiguration>".utf8)
    #expect(throws: XMLRequestError.self) { try VersioningConfiguration.parse(bad) }
    #expect(throws: XMLRequestError.self) { try VersioningConfiguration.parse(Array("<Versioning/>".utf8)) }
    #expect(VersioningConfigurationResult(status: nil).xml()
        == declaration + "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></VersioningConfiguration>")
    #expect(VersioningConfigurationResult(status: "Enabled").xml().contains("<Status>Enabled</Status>"))
}

// Goal: PublicAccessBlockConfiguration parses as S3 reads it (a missing switch is false) and refuses what S3
// refuses as MalformedXML (a value other than true/false, an unknown element, a repeated one, another root);
// the answer document round-trips.
@Test func publicAccessBlockDocument() throws {
    let document = try PublicAccessBlockDocument.parse(Array("""
        <PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <BlockPublicAcls>true</BlockPublicAcls><RestrictPublicBuckets> TRUE </RestrictPublicBuckets>
        </PublicAccessBlockConfiguration>
        """.utf8))
    #expect(document == PublicAccessBlockDocument(blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: false,
                                                  restrictPublicBuckets: true))
    #expect(try PublicAccessBlockDocument.parse(Array(document.xml().utf8)) == document)
    for bad in ["<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>",
                "<PublicAccessBlockConfiguration><Other>true</Other></PublicAccessBlockConfiguration>",
                "<PublicAccessBlockConfiguration><IgnorePublicAcls>true</IgnorePublicAcls><IgnorePublicAcls>false</IgnorePublicAcls></PublicAccessBlockConfiguration>",
                "<PublicAccessBlock><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlock>"] {
        #expect(throws: XMLRequestError.self) { try PublicAccessBlockDocument.parse(Array(bad.utf8)) }
    }
}

// Goal: the object lock documents parse as S3 reads them and refuse what S3 answers MalformedXML (a status
// other than Enabled, a lower-case mode, both Days and Years, a Rule without DefaultRetention, only one of
// Mode and RetainUntilDate, a legal hold other than ON/OFF); a range problem (Days 0) is left to the
// Gateway; the answer documents round-trip.
@Test func objectLockDocuments() throws {
    func configuration(_ body: String) throws(XMLRequestError) -> ObjectLockConfigurationDocument {
        try ObjectLockConfigurationDocument.parse(Array(("<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + body + "</ObjectLockConfiguration>").utf8))
    }
    #expect(try configuration("<ObjectLockEnabled>Enabled</ObjectLockEnabled>").defaultRetention == nil)
    let ruled = try configuration("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
        + "<Mode>COMPLIANCE</Mode><Days>0</Days></DefaultRetention></Rule>")
    #expect(ruled.defaultRetention == .init(mode: "COMPLIANCE", days: 0, years: nil))
    #expect(try ObjectLockConfigurationDocument.parse(Array(ruled.xml().utf8)) == ruled)
    for bad in ["<ObjectLockEnabled>Disabled</ObjectLockEnabled>",
                "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule/>",
                "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>governance</Mode><Days>1</Days></DefaultRetention></Rule>",
                "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule>",
                "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>x</Days></DefaultRetention></Rule>"] {
        #expect(throws: XMLRequestError.self) { try configuration(bad) }
    }

    let retention = try RetentionDocument.parse(Array(
        "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>".utf8))
    #expect(retention == RetentionDocument(mode: "GOVERNANCE", retainUntil: 1_893_456_000_000))
    #expect(retention.xml().contains("<RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate>"))
    #expect(try RetentionDocument.parse(Array(retention.xml().utf8)) == retention)
    #expect(try RetentionDocument.parse(Array("<Retention/>".utf8)) == RetentionDocument())
    for bad in ["<Retention><Mode>GOVERNANCE</Mode></Retention>",
                "<Retention><Mode>abc</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>",
                "<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>tomorrow</RetainUntilDate></Retention>"] {
        #expect(throws: XMLRequestError.self) { try RetentionDocument.parse(Array(bad.utf8)) }
    }

    #expect(try LegalHoldDocument.parse(Array("<LegalHold><Status>ON</Status></LegalHold>".utf8)).isOn)
    #expect(try !LegalHoldDocument.parse(Array(LegalHoldDocument(isOn: false).xml().utf8)).isOn)
    #expect(throws: XMLRequestError.self) { try LegalHoldDocument.parse(Array("<LegalHold><Status>abc</Status></LegalHold>".utf8)) }
}
