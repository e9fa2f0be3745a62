// S3 response bodies as plain values with `xml()`. Times are milliseconds since the Unix epoch; ETags are
// given as stored, with their quotes (`"9b2cf535f27731c974343645a3985328"`), and written escaped
// (`&quot;...&quot;`) as S3 does.

/// A bucket or object owner (`<Owner><ID/><DisplayName/></Owner>`).
public struct S3Owner: Sendable, Hashable {
    /// The canonical user id.
    public var id: String
    /// The display name.
    public var displayName: String

    /// Creates an owner.
    public init(id: String, displayName: String) {
        self.id = id
        self.displayName = displayName
    }

    func write(_ name: String, to writer: inout XMLWriter) {
        writer.element(name) { writer in
            writer.element("ID", id)
            writer.element("DisplayName", displayName)
        }
    }
}

/// The text of one `Checksum<ALG>` element: a checksum in base64, or a composite `base64-N`.
public struct ChecksumField: Sendable, Hashable {
    /// Which element (`ChecksumCRC32C`).
    public var algorithm: ChecksumAlgorithm
    /// The element text.
    public var value: String

    /// Creates a field.
    public init(algorithm: ChecksumAlgorithm, value: String) {
        self.algorithm = algorithm
        self.value = value
    }

    /// The field of a plain checksum.
    public init(_ checksum: Checksum) {
        self.init(algorithm: checksum.algorithm, value: checksum.base64)
    }
}

extension XMLWriter {
    mutating func checksums(_ fields: [ChecksumField]) {
        for field in fields { element(field.algorithm.xmlElementName, field.value) }
    }
}

/// An S3 error body: `<Error><Code/><Message/>[extra]<Resource/><RequestId/></Error>`. Built by the Gateway's
/// S3Error, the only place that chooses codes.
public struct S3ErrorBody: Sendable, Hashable {
    /// The S3 error code (`NoSuchKey`).
    public var code: String
    /// The human-readable message.
    public var message: String
    /// The bucket or object path (`/bucket/key`), if any.
    public var resource: String?
    /// The `x-amz-request-id` of the response.
    public var requestID: String
    /// Additional elements in order (`BucketName`, `Key`, `ArgumentName`, `RequestTime`, `ServerTime`,
    /// `CanonicalRequest`, `StringToSign`, `MaxAllowedSkewMilliseconds` ...).
    public var extraFields: [ExtraField]

    /// One additional element.
    public struct ExtraField: Sendable, Hashable {
        /// The element name.
        public var name: String
        /// The element text.
        public var value: String

        /// Creates an element.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Creates an error body.
    public init(code: String, message: String, resource: String?, requestID: String, extraFields: [ExtraField] = []) {
        self.code = code
        self.message = message
        self.resource = resource
        self.requestID = requestID
        self.extraFields = extraFields
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("Error") { writer in
            writer.element("Code", code)
            writer.element("Message", message)
            for field in extraFields { writer.element(field.name, field.value) }
            writer.element("Resource", ifPresent: resource)
            writer.element("RequestId", requestID)
        }
        return writer.finish()
    }
}

/// `ListBuckets` response.
public struct ListAllMyBucketsResult: Sendable, Hashable {
    /// One bucket.
    public struct Bucket: Sendable, Hashable {
        /// The bucket name.
        public var name: String
        /// Creation time, milliseconds since the epoch.
        public var creationDateMilliseconds: Int64
        /// The bucket's region (`BucketRegion`, sent by AWS since 2024); nil leaves it out.
        public var region: String?

        /// Creates a bucket entry.
        public init(name: String, creationDateMilliseconds: Int64, region: String? = nil) {
            self.name = name
            self.creationDateMilliseconds = creationDateMilliseconds
            self.region = region
        }
    }

    /// The requester.
    public var owner: S3Owner
    /// The buckets, in name order.
    public var buckets: [Bucket]
    /// When a paginated listing has more buckets: the token of the next page.
    public var continuationToken: String?
    /// The `prefix` the request filtered by, if any.
    public var prefix: String?

    /// Creates the response.
    public init(owner: S3Owner, buckets: [Bucket], continuationToken: String? = nil, prefix: String? = nil) {
        self.owner = owner
        self.buckets = buckets
        self.continuationToken = continuationToken
        self.prefix = prefix
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("ListAllMyBucketsResult", namespace: XMLWriter.s3Namespace) { writer in
            owner.write("Owner", to: &writer)
            writer.element("Buckets") { writer in
                for bucket in buckets {
                    writer.element("Bucket") { writer in
                        writer.element("Name", bucket.name)
                        writer.element("CreationDate", S3Time.iso8601(milliseconds: bucket.creationDateMilliseconds))
                        writer.element("BucketRegion", ifPresent: bucket.region)
                    }
                }
            }
            writer.element("ContinuationToken", ifPresent: continuationToken)
            writer.element("Prefix", ifPresent: prefix)
        }
        return writer.finish()
    }
}

/// One object in a listing (`<Contents>`).
public struct ListedObject: Sendable, Hashable {
    /// The key (encoded on output when the listing uses `encoding-type=url`).
    public var key: String
    /// Last modification time, milliseconds since the epoch.
    public var lastModifiedMilliseconds: Int64
    /// The ETag with quotes.
    public var etag: String
    /// Size in bytes.
    public var size: Int64
    /// `STANDARD` and friends.
    public var storageClass: String
    /// Written when the request asked for owners (v1 always; v2 with `fetch-owner=true`).
    public var owner: S3Owner?
    /// The checksum algorithms the object was stored with (`<ChecksumAlgorithm>`, repeated).
    public var checksumAlgorithms: [ChecksumAlgorithm]
    /// `<ChecksumType>` (COMPOSITE / FULL_OBJECT), if any.
    public var checksumType: ChecksumType?

    /// Creates an entry.
    public init(
        key: String, lastModifiedMilliseconds: Int64, etag: String, size: Int64, storageClass: String = "STANDARD",
        owner: S3Owner? = nil, checksumAlgorithms: [ChecksumAlgorithm] = [], checksumType: ChecksumType? = nil
    ) {
        self.key = key
        self.lastModifiedMilliseconds = lastModifiedMilliseconds
        self.etag = etag
        self.size = size
        self.storageClass = storageClass
        self.owner = owner
        self.checksumAlgorithms = checksumAlgorithms
        self.checksumType = checksumType
    }

    func write(to writer: inout XMLWriter, encode: (String) -> String) {
        writer.element("Contents") { writer in
            writer.element("Key", encode(key))
            writer.element("LastModified", S3Time.iso8601(milliseconds: lastModifiedMilliseconds))
            writer.element("ETag", etag)
            for algorithm in checksumAlgorithms { writer.element("ChecksumAlgorithm", algorithm.rawValue) }
            writer.element("ChecksumType", ifPresent: checksumType?.rawValue)
            writer.element("Size", size)
            owner?.write("Owner", to: &writer)
            writer.element("StorageClass", storageClass)
        }
    }
}

/// `encoding-type` of list requests: only `url` exists.
public enum ListEncoding: String, Sendable, Hashable {
    /// Keys, prefixes and markers are URL-encoded in the response.
    case url

    func encoder() -> (String) -> String { S3URIEncoding.encodeForListing }
}

private func encoder(_ encoding: ListEncoding?) -> (String) -> String {
    encoding?.encoder() ?? { $0 }
}

/// `ListObjects` (v1) response.
public struct ListBucketResult: Sendable, Hashable {
    public var name: String
    public var prefix: String
    public var marker: String
    /// Only when a delimiter was given and the list is truncated (AWS); the Gateway decides.
    public var nextMarker: String?
    public var maxKeys: Int
    public var delimiter: String?
    public var isTruncated: Bool
    public var contents: [ListedObject]
    /// Common prefixes in order.
    public var commonPrefixes: [String]
    public var encoding: ListEncoding?

    /// Creates the response; see the fields.
    public init(
        name: String, prefix: String, marker: String, nextMarker: String?, maxKeys: Int, delimiter: String?, isTruncated: Bool,
        contents: [ListedObject], commonPrefixes: [String], encoding: ListEncoding?
    ) {
        self.name = name
        self.prefix = prefix
        self.marker = marker
        self.nextMarker = nextMarker
        self.maxKeys = maxKeys
        self.delimiter = delimiter
        self.isTruncated = isTruncated
        self.contents = contents
        self.commonPrefixes = commonPrefixes
        self.encoding = encoding
    }

    /// The XML document.
    public func xml() -> String {
        let encode = encoder(encoding)
        var writer = XMLWriter()
        writer.element("ListBucketResult", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Name", name)
            // ListObjects v1 returns Prefix as given even with encoding-type=url (unlike v2 and
            // ListObjectVersions): botocore decodes Marker, NextMarker, Delimiter and keys, not Prefix.
            writer.element("Prefix", prefix)
            writer.element("Marker", encode(marker))
            writer.element("NextMarker", ifPresent: nextMarker.map(encode))
            writer.element("MaxKeys", maxKeys)
            writer.element("Delimiter", ifPresent: delimiter.map(encode))
            writer.element("IsTruncated", isTruncated)
            writer.element("EncodingType", ifPresent: encoding?.rawValue)
            writer.listing(contents: contents, commonPrefixes: commonPrefixes, encode: encode)
        }
        return writer.finish()
    }
}

/// `ListObjectsV2` response.
public struct ListBucketV2Result: Sendable, Hashable {
    public var name: String
    public var prefix: String
    public var startAfter: String?
    public var continuationToken: String?
    public var nextContinuationToken: String?
    public var maxKeys: Int
    public var delimiter: String?
    public var isTruncated: Bool
    /// Objects; set `owner` on each for `fetch-owner=true`.
    public var contents: [ListedObject]
    public var commonPrefixes: [String]
    public var encoding: ListEncoding?

    /// Creates the response.
    public init(
        name: String, prefix: String, startAfter: String?, continuationToken: String?, nextContinuationToken: String?,
        maxKeys: Int, delimiter: String?, isTruncated: Bool, contents: [ListedObject], commonPrefixes: [String],
        encoding: ListEncoding?
    ) {
        self.name = name
        self.prefix = prefix
        self.startAfter = startAfter
        self.continuationToken = continuationToken
        self.nextContinuationToken = nextContinuationToken
        self.maxKeys = maxKeys
        self.delimiter = delimiter
        self.isTruncated = isTruncated
        self.contents = contents
        self.commonPrefixes = commonPrefixes
        self.encoding = encoding
    }

    /// Objects plus common prefixes returned (`KeyCount`).
    public var keyCount: Int { contents.count + commonPrefixes.count }

    /// The XML document.
    public func xml() -> String {
        let encode = encoder(encoding)
        var writer = XMLWriter()
        writer.element("ListBucketResult", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Name", name)
            writer.element("Prefix", encode(prefix))
            writer.element("StartAfter", ifPresent: startAfter.map(encode))
            writer.element("ContinuationToken", ifPresent: continuationToken)
            writer.element("NextContinuationToken", ifPresent: nextContinuationToken)
            writer.element("KeyCount", keyCount)
            writer.element("MaxKeys", maxKeys)
            writer.element("Delimiter", ifPresent: delimiter.map(encode))
            writer.element("IsTruncated", isTruncated)
            writer.element("EncodingType", ifPresent: encoding?.rawValue)
            writer.listing(contents: contents, commonPrefixes: commonPrefixes, encode: encode)
        }
        return writer.finish()
    }
}

/// One object version in a `ListObjectVersions` response (`<Version>`).
public struct ListedVersion: Sendable, Hashable {
    /// The key (encoded on output when the listing uses `encoding-type=url`).
    public var key: String
    /// `null` for an object written while versioning was never enabled.
    public var versionID: String
    /// Whether this is the current version of its key.
    public var isLatest: Bool
    /// Last modification time, milliseconds since the epoch.
    public var lastModifiedMilliseconds: Int64
    /// The ETag with quotes.
    public var etag: String
    /// Size in bytes.
    public var size: Int64
    /// `STANDARD` and friends.
    public var storageClass: String
    /// The object's owner.
    public var owner: S3Owner
    /// A `<DeleteMarker>` entry (key, version id, latest flag, time and owner only) instead of a `<Version>`.
    public var isDeleteMarker: Bool

    /// Creates an entry.
    public init(
        key: String, versionID: String, isLatest: Bool, lastModifiedMilliseconds: Int64, etag: String, size: Int64,
        storageClass: String = "STANDARD", owner: S3Owner, isDeleteMarker: Bool = false
    ) {
        self.isDeleteMarker = isDeleteMarker
        self.key = key
        self.versionID = versionID
        self.isLatest = isLatest
        self.lastModifiedMilliseconds = lastModifiedMilliseconds
        self.etag = etag
        self.size = size
        self.storageClass = storageClass
        self.owner = owner
    }

    func write(to writer: inout XMLWriter, encode: (String) -> String) {
        if isDeleteMarker {
            writer.element("DeleteMarker") { writer in
                writer.element("Key", encode(key))
                writer.element("VersionId", versionID)
                writer.element("IsLatest", isLatest)
                writer.element("LastModified", S3Time.iso8601(milliseconds: lastModifiedMilliseconds))
                owner.write("Owner", to: &writer)
            }
            return
        }
        writer.element("Version") { writer in
            writer.element("Key", encode(key))
            writer.element("VersionId", versionID)
            writer.element("IsLatest", isLatest)
            writer.element("LastModified", S3Time.iso8601(milliseconds: lastModifiedMilliseconds))
            writer.element("ETag", etag)
            writer.element("Size", size)
            writer.element("StorageClass", storageClass)
            owner.write("Owner", to: &writer)
        }
    }
}

/// `ListObjectVersions` response (`<ListVersionsResult>`).
public struct ListVersionsResult: Sendable, Hashable {
    public var name: String
    public var prefix: String
    public var keyMarker: String
    public var versionIDMarker: String
    /// When truncated: where the next page starts (the last key or common prefix returned).
    public var nextKeyMarker: String?
    /// When truncated after a version: that version's id.
    public var nextVersionIDMarker: String?
    public var maxKeys: Int
    public var delimiter: String?
    public var isTruncated: Bool
    /// The versions in key order (newest first within a key).
    public var versions: [ListedVersion]
    /// Common prefixes in order.
    public var commonPrefixes: [String]
    public var encoding: ListEncoding?

    /// Creates the response; see the fields.
    public init(
        name: String, prefix: String, keyMarker: String, versionIDMarker: String, nextKeyMarker: String?,
        nextVersionIDMarker: String?, maxKeys: Int, delimiter: String?, isTruncated: Bool, versions: [ListedVersion],
        commonPrefixes: [String], encoding: ListEncoding?
    ) {
        self.name = name
        self.prefix = prefix
        self.keyMarker = keyMarker
        self.versionIDMarker = versionIDMarker
        self.nextKeyMarker = nextKeyMarker
        self.nextVersionIDMarker = nextVersionIDMarker
        self.maxKeys = maxKeys
        self.delimiter = delimiter
        self.isTruncated = isTruncated
        self.versions = versions
        self.commonPrefixes = commonPrefixes
        self.encoding = encoding
    }

    /// The XML document.
    public func xml() -> String {
        let encode = encoder(encoding)
        var writer = XMLWriter()
        writer.element("ListVersionsResult", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Name", name)
            writer.element("Prefix", encode(prefix))
            writer.element("KeyMarker", encode(keyMarker))
            writer.element("VersionIdMarker", versionIDMarker)
            writer.element("NextKeyMarker", ifPresent: nextKeyMarker.map(encode))
            writer.element("NextVersionIdMarker", ifPresent: nextVersionIDMarker)
            writer.element("MaxKeys", maxKeys)
            writer.element("Delimiter", ifPresent: delimiter.map(encode))
            writer.element("IsTruncated", isTruncated)
            writer.element("EncodingType", ifPresent: encoding?.rawValue)
            for version in versions { version.write(to: &writer, encode: encode) }
            writer.commonPrefixes(commonPrefixes, encode: encode)
        }
        return writer.finish()
    }
}

/// `GetBucketVersioning` response: `<VersioningConfiguration>` with `Status` once versioning was ever set
/// (`Enabled` or `Suspended`), empty before.
public struct VersioningConfigurationResult: Sendable, Hashable {
    /// nil for a bucket whose versioning was never set.
    public var status: String?

    /// Creates the response.
    public init(status: String?) { self.status = status }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("VersioningConfiguration", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Status", ifPresent: status)
        }
        return writer.finish()
    }
}

/// `GetBucketAcl` / `GetObjectAcl` response (`<AccessControlPolicy>`): the owner and its grants to
/// canonical users and groups.
public struct AccessControlPolicyResult: Sendable, Hashable {
    /// One grant.
    public struct Grant: Sendable, Hashable {
        /// Who is granted.
        public var grantee: ACLGranteeResult
        /// `FULL_CONTROL`, `READ`, `WRITE`, `READ_ACP` or `WRITE_ACP`.
        public var permission: String

        /// Creates a grant.
        public init(grantee: ACLGranteeResult, permission: String) {
            self.grantee = grantee
            self.permission = permission
        }
    }

    /// The resource's owner.
    public var owner: S3Owner
    /// The grants in order.
    public var grants: [Grant]

    /// Creates the response.
    public init(owner: S3Owner, grants: [Grant]) {
        self.owner = owner
        self.grants = grants
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("AccessControlPolicy", namespace: XMLWriter.s3Namespace) { writer in
            owner.write("Owner", to: &writer)
            writer.element("AccessControlList") { writer in
                for grant in grants {
                    writer.element("Grant") { writer in
                        switch grant.grantee {
                        case .canonicalUser(let user):
                            writer.element("Grantee", attributes: [
                                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "CanonicalUser"),
                            ]) { writer in
                                writer.element("ID", user.id)
                                writer.element("DisplayName", user.displayName)
                            }
                        case .group(let uri):
                            writer.element("Grantee", attributes: [
                                ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "Group"),
                            ]) { writer in
                                writer.element("URI", uri)
                            }
                        }
                        writer.element("Permission", grant.permission)
                    }
                }
            }
        }
        return writer.finish()
    }
}

/// `GetObjectAttributes` response: the attributes asked for, each only when requested (nil: not asked).
public struct GetObjectAttributesResult: Sendable, Hashable {
    /// The ETag, without quotes (as AWS writes it here).
    public var etag: String?
    /// The object's additional checksum and its type, if it has one and `Checksum` was asked for.
    public var checksum: ChecksumField?
    public var checksumType: ChecksumType?
    /// For a multipart object with `ObjectParts` asked for: its number of parts (`PartsCount`). AWS lists
    /// the parts themselves only for objects uploaded with additional checksums, which Silo does not keep
    /// per part, so no `Part` elements are written.
    public var partsCount: Int?
    public var storageClass: String?
    public var objectSize: Int64?

    /// Creates the response.
    public init(etag: String?, checksum: ChecksumField?, checksumType: ChecksumType?, partsCount: Int?,
                storageClass: String?, objectSize: Int64?) {
        self.etag = etag
        self.checksum = checksum
        self.checksumType = checksumType
        self.partsCount = partsCount
        self.storageClass = storageClass
        self.objectSize = objectSize
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("GetObjectAttributesResponse", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("ETag", ifPresent: etag)
            if let checksum {
                writer.element("Checksum") { writer in
                    writer.checksums([checksum])
                    writer.element("ChecksumType", ifPresent: checksumType?.rawValue)
                }
            }
            if let partsCount {
                writer.element("ObjectParts") { writer in writer.element("PartsCount", partsCount) }
            }
            writer.element("StorageClass", ifPresent: storageClass)
            if let objectSize { writer.element("ObjectSize", objectSize) }
        }
        return writer.finish()
    }
}

/// `GetBucketLocation` response. us-east-1 is written as an empty element, as S3 does.
public struct LocationConstraintResult: Sendable, Hashable {
    /// The region; nil or `us-east-1` gives the empty element.
    public var region: String?

    /// Creates the response.
    public init(region: String?) { self.region = region }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        let value = region == "us-east-1" ? nil : region
        writer.open("LocationConstraint", namespace: XMLWriter.s3Namespace)
        if let value { writer.characters(value) }
        writer.close("LocationConstraint")
        return writer.finish()
    }
}

/// `CreateMultipartUpload` response.
public struct InitiateMultipartUploadResult: Sendable, Hashable {
    public var bucket: String
    public var key: String
    public var uploadID: String

    /// Creates the response.
    public init(bucket: String, key: String, uploadID: String) {
        self.bucket = bucket
        self.key = key
        self.uploadID = uploadID
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("InitiateMultipartUploadResult", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Bucket", bucket)
            writer.element("Key", key)
            writer.element("UploadId", uploadID)
        }
        return writer.finish()
    }
}

/// `CompleteMultipartUpload` response.
public struct CompleteMultipartUploadResult: Sendable, Hashable {
    /// The object URL (`http://host/bucket/key`).
    public var location: String
    public var bucket: String
    public var key: String
    /// `"<md5 of part md5s>-N"` with quotes.
    public var etag: String
    public var checksums: [ChecksumField]
    public var checksumType: ChecksumType?

    /// Creates the response.
    public init(
        location: String, bucket: String, key: String, etag: String, checksums: [ChecksumField] = [],
        checksumType: ChecksumType? = nil
    ) {
        self.location = location
        self.bucket = bucket
        self.key = key
        self.etag = etag
        self.checksums = checksums
        self.checksumType = checksumType
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("CompleteMultipartUploadResult", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Location", location)
            writer.element("Bucket", bucket)
            writer.element("Key", key)
            writer.element("ETag", etag)
            writer.checksums(checksums)
            writer.element("ChecksumType", ifPresent: checksumType?.rawValue)
        }
        return writer.finish()
    }
}

/// `CopyObject` (`CopyObjectResult`) and `UploadPartCopy` (`CopyPartResult`) responses.
public struct CopyResult: Sendable, Hashable {
    /// Which of the two documents.
    public enum Kind: String, Sendable, Hashable {
        case copyObject = "CopyObjectResult"
        case copyPart = "CopyPartResult"
    }

    public var kind: Kind
    public var lastModifiedMilliseconds: Int64
    public var etag: String
    public var checksums: [ChecksumField]

    /// Creates the response.
    public init(kind: Kind, lastModifiedMilliseconds: Int64, etag: String, checksums: [ChecksumField] = []) {
        self.kind = kind
        self.lastModifiedMilliseconds = lastModifiedMilliseconds
        self.etag = etag
        self.checksums = checksums
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element(kind.rawValue, namespace: XMLWriter.s3Namespace) { writer in
            writer.element("LastModified", S3Time.iso8601(milliseconds: lastModifiedMilliseconds))
            writer.element("ETag", etag)
            writer.checksums(checksums)
        }
        return writer.finish()
    }
}

/// `ListParts` response.
public struct ListPartsResult: Sendable, Hashable {
    /// One part.
    public struct Part: Sendable, Hashable {
        public var partNumber: Int
        public var lastModifiedMilliseconds: Int64
        public var etag: String
        public var size: Int64
        public var checksums: [ChecksumField]

        /// Creates a part entry.
        public init(partNumber: Int, lastModifiedMilliseconds: Int64, etag: String, size: Int64, checksums: [ChecksumField] = []) {
            self.partNumber = partNumber
            self.lastModifiedMilliseconds = lastModifiedMilliseconds
            self.etag = etag
            self.size = size
            self.checksums = checksums
        }
    }

    public var bucket: String
    public var key: String
    public var uploadID: String
    public var partNumberMarker: Int
    public var nextPartNumberMarker: Int
    public var maxParts: Int
    public var isTruncated: Bool
    public var parts: [Part]
    public var initiator: S3Owner
    public var owner: S3Owner
    public var storageClass: String
    public var checksumAlgorithm: ChecksumAlgorithm?
    public var checksumType: ChecksumType?

    /// Creates the response.
    public init(
        bucket: String, key: String, uploadID: String, partNumberMarker: Int, nextPartNumberMarker: Int, maxParts: Int,
        isTruncated: Bool, parts: [Part], initiator: S3Owner, owner: S3Owner, storageClass: String = "STANDARD",
        checksumAlgorithm: ChecksumAlgorithm? = nil, checksumType: ChecksumType? = nil
    ) {
        self.bucket = bucket
        self.key = key
        self.uploadID = uploadID
        self.partNumberMarker = partNumberMarker
        self.nextPartNumberMarker = nextPartNumberMarker
        self.maxParts = maxParts
        self.isTruncated = isTruncated
        self.parts = parts
        self.initiator = initiator
        self.owner = owner
        self.storageClass = storageClass
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("ListPartsResult", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Bucket", bucket)
            writer.element("Key", key)
            writer.element("UploadId", uploadID)
            writer.element("PartNumberMarker", partNumberMarker)
            writer.element("NextPartNumberMarker", nextPartNumberMarker)
            writer.element("MaxParts", maxParts)
            writer.element("IsTruncated", isTruncated)
            for part in parts {
                writer.element("Part") { writer in
                    writer.element("PartNumber", part.partNumber)
                    writer.element("LastModified", S3Time.iso8601(milliseconds: part.lastModifiedMilliseconds))
                    writer.element("ETag", part.etag)
                    writer.element("Size", part.size)
                    writer.checksums(part.checksums)
                }
            }
            initiator.write("Initiator", to: &writer)
            owner.write("Owner", to: &writer)
            writer.element("StorageClass", storageClass)
            writer.element("ChecksumAlgorithm", ifPresent: checksumAlgorithm?.rawValue)
            writer.element("ChecksumType", ifPresent: checksumType?.rawValue)
        }
        return writer.finish()
    }
}

/// `ListMultipartUploads` response.
public struct ListMultipartUploadsResult: Sendable, Hashable {
    /// One upload in progress.
    public struct Upload: Sendable, Hashable {
        public var key: String
        public var uploadID: String
        public var initiator: S3Owner
        public var owner: S3Owner
        public var storageClass: String
        public var initiatedMilliseconds: Int64
        public var checksumAlgorithm: ChecksumAlgorithm?
        public var checksumType: ChecksumType?

        /// Creates an upload entry.
        public init(
            key: String, uploadID: String, initiator: S3Owner, owner: S3Owner, storageClass: String = "STANDARD",
            initiatedMilliseconds: Int64, checksumAlgorithm: ChecksumAlgorithm? = nil, checksumType: ChecksumType? = nil
        ) {
            self.key = key
            self.uploadID = uploadID
            self.initiator = initiator
            self.owner = owner
            self.storageClass = storageClass
            self.initiatedMilliseconds = initiatedMilliseconds
            self.checksumAlgorithm = checksumAlgorithm
            self.checksumType = checksumType
        }
    }

    public var bucket: String
    public var keyMarker: String
    public var uploadIDMarker: String
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
    public var prefix: String
    public var delimiter: String?
    public var maxUploads: Int
    public var isTruncated: Bool
    public var uploads: [Upload]
    public var commonPrefixes: [String]
    public var encoding: ListEncoding?

    /// Creates the response.
    public init(
        bucket: String, keyMarker: String, uploadIDMarker: String, nextKeyMarker: String?, nextUploadIDMarker: String?,
        prefix: String, delimiter: String?, maxUploads: Int, isTruncated: Bool, uploads: [Upload], commonPrefixes: [String],
        encoding: ListEncoding?
    ) {
        self.bucket = bucket
        self.keyMarker = keyMarker
        self.uploadIDMarker = uploadIDMarker
        self.nextKeyMarker = nextKeyMarker
        self.nextUploadIDMarker = nextUploadIDMarker
        self.prefix = prefix
        self.delimiter = delimiter
        self.maxUploads = maxUploads
        self.isTruncated = isTruncated
        self.uploads = uploads
        self.commonPrefixes = commonPrefixes
        self.encoding = encoding
    }

    /// The XML document.
    public func xml() -> String {
        let encode = encoder(encoding)
        var writer = XMLWriter()
        writer.element("ListMultipartUploadsResult", namespace: XMLWriter.s3Namespace) { writer in
            writer.element("Bucket", bucket)
            writer.element("KeyMarker", encode(keyMarker))
            writer.element("UploadIdMarker", uploadIDMarker)
            writer.element("NextKeyMarker", ifPresent: nextKeyMarker.map(encode))
            writer.element("NextUploadIdMarker", ifPresent: nextUploadIDMarker)
            writer.element("Prefix", encode(prefix))
            writer.element("Delimiter", ifPresent: delimiter.map(encode))
            writer.element("MaxUploads", maxUploads)
            writer.element("IsTruncated", isTruncated)
            writer.element("EncodingType", ifPresent: encoding?.rawValue)
            for upload in uploads {
                writer.element("Upload") { writer in
                    writer.element("Key", encode(upload.key))
                    writer.element("UploadId", upload.uploadID)
                    upload.initiator.write("Initiator", to: &writer)
                    upload.owner.write("Owner", to: &writer)
                    writer.element("StorageClass", upload.storageClass)
                    writer.element("Initiated", S3Time.iso8601(milliseconds: upload.initiatedMilliseconds))
                    writer.element("ChecksumAlgorithm", ifPresent: upload.checksumAlgorithm?.rawValue)
                    writer.element("ChecksumType", ifPresent: upload.checksumType?.rawValue)
                }
            }
            writer.commonPrefixes(commonPrefixes, encode: encode)
        }
        return writer.finish()
    }
}

/// `DeleteObjects` response. In quiet mode only the errors are written.
public struct DeleteResult: Sendable, Hashable {
    /// A deleted object.
    public struct Deleted: Sendable, Hashable {
        public var key: String
        public var versionID: String?
        public var deleteMarker: Bool?
        public var deleteMarkerVersionID: String?

        /// Creates an entry.
        public init(key: String, versionID: String? = nil, deleteMarker: Bool? = nil, deleteMarkerVersionID: String? = nil) {
            self.key = key
            self.versionID = versionID
            self.deleteMarker = deleteMarker
            self.deleteMarkerVersionID = deleteMarkerVersionID
        }
    }

    /// An object that could not be deleted; `code` is an S3 error code chosen by the Gateway.
    public struct Failure: Sendable, Hashable {
        public var key: String
        public var versionID: String?
        public var code: String
        public var message: String

        /// Creates an entry.
        public init(key: String, versionID: String? = nil, code: String, message: String) {
            self.key = key
            self.versionID = versionID
            self.code = code
            self.message = message
        }
    }

    public var deleted: [Deleted]
    public var failures: [Failure]
    public var quiet: Bool

    /// Creates the response.
    public init(deleted: [Deleted], failures: [Failure], quiet: Bool) {
        self.deleted = deleted
        self.failures = failures
        self.quiet = quiet
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("DeleteResult", namespace: XMLWriter.s3Namespace) { writer in
            if !quiet {
                for entry in deleted {
                    writer.element("Deleted") { writer in
                        writer.element("Key", entry.key)
                        writer.element("VersionId", ifPresent: entry.versionID)
                        if let marker = entry.deleteMarker { writer.element("DeleteMarker", marker) }
                        writer.element("DeleteMarkerVersionId", ifPresent: entry.deleteMarkerVersionID)
                    }
                }
            }
            for failure in failures {
                writer.element("Error") { writer in
                    writer.element("Key", failure.key)
                    writer.element("VersionId", ifPresent: failure.versionID)
                    writer.element("Code", failure.code)
                    writer.element("Message", failure.message)
                }
            }
        }
        return writer.finish()
    }
}

extension XMLWriter {
    /// The entries every listing ends with: the objects, then one `CommonPrefixes` per rolled-up prefix.
    mutating func listing(contents: [ListedObject], commonPrefixes: [String], encode: (String) -> String) {
        for object in contents { object.write(to: &self, encode: encode) }
        self.commonPrefixes(commonPrefixes, encode: encode)
    }

    /// One `<CommonPrefixes><Prefix>…</Prefix></CommonPrefixes>` per prefix, encoded as the request asked.
    mutating func commonPrefixes(_ prefixes: [String], encode: (String) -> String) {
        for prefix in prefixes {
            element("CommonPrefixes") { writer in writer.element("Prefix", encode(prefix)) }
        }
    }
}
