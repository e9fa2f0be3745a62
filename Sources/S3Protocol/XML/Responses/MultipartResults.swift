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
