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
