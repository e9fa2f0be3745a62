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
