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

/// The key and prefix encoding a listing asked for (`encoding-type=url`), or none.
func encoder(_ encoding: ListEncoding?) -> (String) -> String {
    encoding?.encoder() ?? { $0 }
}
