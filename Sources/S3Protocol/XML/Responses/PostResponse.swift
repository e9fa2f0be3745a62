/// The answer to a POST Object whose `success_action_status` is 201: where the object is.
public struct PostResponse: Sendable, Equatable {
    public var location: String
    public var bucket: String
    public var key: String
    /// Quoted, as in the `ETag` header.
    public var etag: String

    public init(location: String, bucket: String, key: String, etag: String) {
        self.location = location
        self.bucket = bucket
        self.key = key
        self.etag = etag
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("PostResponse") { writer in
            writer.element("Location", location)
            writer.element("Bucket", bucket)
            writer.element("Key", key)
            writer.element("ETag", etag)
        }
        return writer.finish()
    }
}
