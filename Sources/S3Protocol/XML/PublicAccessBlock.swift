import Foundation

/// `PutPublicAccessBlock` body / `GetPublicAccessBlock` answer: the four switches S3 has to keep a bucket
/// from being made or used public. A missing element is false, as in S3.
public struct PublicAccessBlockDocument: Sendable, Hashable {
    public var blockPublicAcls: Bool
    public var ignorePublicAcls: Bool
    public var blockPublicPolicy: Bool
    public var restrictPublicBuckets: Bool

    /// Creates the document.
    public init(blockPublicAcls: Bool, ignorePublicAcls: Bool, blockPublicPolicy: Bool, restrictPublicBuckets: Bool) {
        self.blockPublicAcls = blockPublicAcls
        self.ignorePublicAcls = ignorePublicAcls
        self.blockPublicPolicy = blockPublicPolicy
        self.restrictPublicBuckets = restrictPublicBuckets
    }

    private static let names = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]

    /// Parses `<PublicAccessBlockConfiguration>` with `true`/`false` switches (each at most once).
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> PublicAccessBlockDocument {
        let root = try XMLTree.parse(body, rootName: "PublicAccessBlockConfiguration")
        var values: [String: Bool] = [:]
        for child in root.children {
            guard names.contains(child.name) else {
                throw .malformedXML(reason: "unknown element \(child.name.prefix(64)) in PublicAccessBlockConfiguration")
            }
            guard values[child.name] == nil else { throw .malformedXML(reason: "\(child.name) given twice") }
            switch child.text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
            case "true": values[child.name] = true
            case "false": values[child.name] = false
            default: throw .malformedXML(reason: "\(child.name) must be true or false")
            }
        }
        return PublicAccessBlockDocument(
            blockPublicAcls: values["BlockPublicAcls"] ?? false, ignorePublicAcls: values["IgnorePublicAcls"] ?? false,
            blockPublicPolicy: values["BlockPublicPolicy"] ?? false,
            restrictPublicBuckets: values["RestrictPublicBuckets"] ?? false)
    }

    /// The XML document.
    public func xml() -> String {
        var writer = XMLWriter()
        writer.element("PublicAccessBlockConfiguration", namespace: XMLWriter.s3Namespace) { writer in
            for (name, value) in zip(Self.names, [blockPublicAcls, ignorePublicAcls, blockPublicPolicy,
                                                  restrictPublicBuckets]) {
                writer.element(name, value ? "true" : "false")
            }
        }
        return writer.finish()
    }
}
