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
