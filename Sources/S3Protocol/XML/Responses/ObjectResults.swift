/// `GetObjectAttributes` response: the attributes asked for, each only when requested (nil: not asked).
public struct GetObjectAttributesResult: Sendable, Hashable {
    /// The ETag, without quotes (as AWS writes it here).
    public var etag: String?
    /// The object's additional checksum and its type, if it has one and `Checksum` was asked for.
    public var checksum: ChecksumField?
    public var checksumType: ChecksumType?
    /// For a multipart object with `ObjectParts` asked for: a page of its parts.
    public var parts: ObjectPartsPage?
    public var storageClass: String?
    public var objectSize: Int64?

    /// A page of a multipart object's parts (`ObjectParts`): the part count, and the parts after
    /// `partNumberMarker`, at most `maxParts`. AWS lists `Part` elements only for objects uploaded with
    /// additional checksums; Silo lists number and size for every multipart object, as RGW does and Ceph's
    /// s3-tests expect (more than AWS tells, never different). Part checksums are not kept, so none are
    /// written.
    public struct ObjectPartsPage: Sendable, Hashable {
        /// One part: its number (from 1) and size in bytes.
        public struct Part: Sendable, Hashable {
            public var number: Int
            public var size: Int64
        }

        public var partsCount: Int
        public var partNumberMarker: Int
        public var maxParts: Int
        /// Part numbers and sizes, ascending, after `partNumberMarker`.
        public var parts: [Part]
        public var isTruncated: Bool

        /// The page of `sizes` (part `i + 1` has size `sizes[i]`) after `marker`, at most `maxParts` long.
        public init(sizes: [Int64], partNumberMarker marker: Int, maxParts: Int) {
            precondition(marker >= 0 && maxParts >= 0, "part page marker \(marker), max \(maxParts)")
            partsCount = sizes.count
            partNumberMarker = marker
            self.maxParts = maxParts
            let first = min(marker, sizes.count)
            let last = first + min(maxParts, sizes.count - first)
            parts = (first..<last).map { Part(number: $0 + 1, size: sizes[$0]) }
            isTruncated = last < sizes.count
        }
    }

    /// Creates the response.
    public init(etag: String?, checksum: ChecksumField?, checksumType: ChecksumType?, parts: ObjectPartsPage?,
                storageClass: String?, objectSize: Int64?) {
        self.etag = etag
        self.checksum = checksum
        self.checksumType = checksumType
        self.parts = parts
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
            if let parts {
                writer.element("ObjectParts") { writer in
                    writer.element("IsTruncated", parts.isTruncated)
                    writer.element("MaxParts", parts.maxParts)
                    if let last = parts.parts.last { writer.element("NextPartNumberMarker", last.number) }
                    writer.element("PartNumberMarker", parts.partNumberMarker)
                    for part in parts.parts {
                        writer.element("Part") { writer in
                            writer.element("PartNumber", part.number)
                            writer.element("Size", part.size)
                        }
                    }
                    writer.element("PartsCount", parts.partsCount)
                }
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
