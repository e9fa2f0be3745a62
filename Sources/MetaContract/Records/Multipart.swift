/// An in-progress multipart upload.
public struct UploadRecord: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var uploadID: String
    public var initiator: String
    /// Milliseconds since the Unix epoch.
    public var initiatedTime: Int64
    public var headers: [HeaderField]
    public var userMetadata: [HeaderField]
    /// The checksum algorithm named at creation (`x-amz-checksum-algorithm`), if any.
    public var checksumAlgorithm: String?
    /// The ACL the completed object gets (asked for at creation); nil for uploads from before ACLs:
    /// private to the initiator.
    public var acl: AccessControlList?
    public init(bucket: String, key: String, uploadID: String, initiator: String, initiatedTime: Int64,
                headers: [HeaderField], userMetadata: [HeaderField], checksumAlgorithm: String?,
                acl: AccessControlList? = nil) {
        self.acl = acl
        self.bucket = bucket
        self.key = key
        self.uploadID = uploadID
        self.initiator = initiator
        self.initiatedTime = initiatedTime
        self.headers = headers
        self.userMetadata = userMetadata
        self.checksumAlgorithm = checksumAlgorithm
    }
}

public struct PartRecord: Sendable, Equatable {
    public var partNumber: Int
    public var sizeBytes: Int64
    /// Unquoted MD5 hex of the part's bytes.
    public var etag: String
    public var lastModifiedTime: Int64
    public var checksum: StoredChecksum?
    public var chunks: [ChunkRef]
    public init(partNumber: Int, sizeBytes: Int64, etag: String, lastModifiedTime: Int64,
                checksum: StoredChecksum?, chunks: [ChunkRef]) {
        self.partNumber = partNumber
        self.sizeBytes = sizeBytes
        self.etag = etag
        self.lastModifiedTime = lastModifiedTime
        self.checksum = checksum
        self.chunks = chunks
    }
}

/// A part named in CompleteMultipartUpload.
public struct CompletedPart: Sendable, Equatable {
    public var partNumber: Int
    /// Unquoted.
    public var etag: String
    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

public struct ListPartsPage: Sendable, Equatable {
    public var upload: UploadRecord
    public var parts: [PartRecord]
    public var isTruncated: Bool
    public var nextPartNumberMarker: Int
    public init(upload: UploadRecord, parts: [PartRecord], isTruncated: Bool, nextPartNumberMarker: Int) {
        self.upload = upload
        self.parts = parts
        self.isTruncated = isTruncated
        self.nextPartNumberMarker = nextPartNumberMarker
    }
}

public struct ListUploadsQuery: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    public var delimiter: String
    /// Uploads after (keyMarker, uploadIDMarker) in (key, initiated order, uploadID) order; an empty
    /// uploadIDMarker means after every upload of keyMarker.
    public var keyMarker: String
    public var uploadIDMarker: String
    public var maxUploads: Int
    public init(bucket: String, prefix: String, delimiter: String, keyMarker: String, uploadIDMarker: String,
                maxUploads: Int) {
        self.bucket = bucket
        self.prefix = prefix
        self.delimiter = delimiter
        self.keyMarker = keyMarker
        self.uploadIDMarker = uploadIDMarker
        self.maxUploads = maxUploads
    }
}

public struct ListUploadsPage: Sendable, Equatable {
    public var uploads: [UploadRecord]
    public var commonPrefixes: [String]
    public var isTruncated: Bool
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
    public init(uploads: [UploadRecord], commonPrefixes: [String], isTruncated: Bool, nextKeyMarker: String?,
                nextUploadIDMarker: String?) {
        self.uploads = uploads
        self.commonPrefixes = commonPrefixes
        self.isTruncated = isTruncated
        self.nextKeyMarker = nextKeyMarker
        self.nextUploadIDMarker = nextUploadIDMarker
    }
}
