import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Why an XML request body was refused. The Gateway maps `.malformedXML` and `.tooManyObjects` to
/// `MalformedXML`, `.tooLarge` to `MaxMessageLengthExceeded` (or `MalformedXML`), `.invalidPartNumber` to
/// `InvalidArgument`/`InvalidPart`, and `.invalidLocationConstraint` to `InvalidLocationConstraint`.
public enum XMLRequestError: Error, Sendable, Hashable {
    /// Not well-formed, the wrong root element, or a required element missing.
    case malformedXML(reason: String)
    /// The body is larger than `S3Limits.xmlRequestBodyBytesMax`.
    case tooLarge(byteCount: Int)
    /// A Delete request names more than 1000 objects (or none).
    case tooManyObjects(count: Int)
    /// A part number that is not an integer in 1...10000.
    case invalidPartNumber(String)
    /// A LocationConstraint that is empty or not a region name.
    case invalidLocationConstraint(String)
}

/// A parsed element: its local name, its text, its children in order.
struct XMLElementNode {
    var name: String
    var text: String = ""
    var children: [XMLElementNode] = []

    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }
}

/// Builds an element tree with FoundationXML's event parser, bounded in size and depth. External entities
/// are not resolved (no XXE).
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var stack: [XMLElementNode] = []
    var root: XMLElementNode?
    var failure: String?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        guard stack.count < S3Limits.xmlDepthMax else {
            failure = "elements nested deeper than \(S3Limits.xmlDepthMax)"
            parser.abortParsing()
            return
        }
        stack.append(XMLElementNode(name: elementName))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let node = stack.popLast() else { return }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: block, as: UTF8.self)
    }
}

enum XMLTree {
    /// Parses `bytes` into a tree whose root must be `rootName`.
    static func parse(_ bytes: [UInt8], rootName: String) throws(XMLRequestError) -> XMLElementNode {
        guard bytes.count <= S3Limits.xmlRequestBodyBytesMax else { throw .tooLarge(byteCount: bytes.count) }
        // FoundationXML traps on a name that is not UTF-8 (found by the fuzzer: `<CreateBucket\u{FF}...>`
        // stopped the process), so only UTF-8 documents reach it, and no declaration may switch libxml2 to
        // another encoding. S3 request bodies are UTF-8.
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .malformedXML(reason: "the document is not UTF-8")
        }
        if let declaredEncoding = declaredEncoding(bytes), !["utf-8", "utf8"].contains(declaredEncoding.lowercased()) {
            throw .malformedXML(reason: "the document declares encoding \(declaredEncoding.prefix(32)); only UTF-8 is accepted")
        }
        // FoundationXML also crashes on a processing instruction without data (`<?o?>`: strlen of NULL,
        // found by the fuzzer), and document type declarations reach callbacks of the same kind. S3 bodies
        // have neither: only the XML declaration, comments and CDATA sections may start with `<?` / `<!`.
        if let construct = forbiddenConstruct(bytes) { throw .malformedXML(reason: construct) }
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder()
        parser.delegate = builder
        let succeeded = parser.parse()
        if let failure = builder.failure { throw .malformedXML(reason: failure) }
        guard succeeded, let root = builder.root else {
            throw .malformedXML(reason: parser.parserError.map { "not well-formed XML (\($0.localizedDescription))" } ?? "not well-formed XML")
        }
        guard root.name == rootName else { throw .malformedXML(reason: "root element is \(root.name), expected \(rootName)") }
        return root
    }

    /// Why the document holds a construct no S3 body uses and FoundationXML cannot be trusted with: a
    /// processing instruction other than the leading XML declaration, or a document type declaration
    /// (`<!` not starting a comment or a CDATA section). Nil when there is none.
    static func forbiddenConstruct(_ bytes: [UInt8]) -> String? {
        let declarationStart = bytes.firstIndex { !(($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF
            || $0 == 0xBB || $0 == 0xBF)) }
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "<") {
                let next = bytes[index + 1]
                if next == UInt8(ascii: "?") {
                    let isDeclaration = index == declarationStart && bytes[index...].starts(with: Array("<?xml".utf8))
                        && index + 5 < bytes.count && [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index + 5])
                    if !isDeclaration { return "processing instructions are not allowed" }
                } else if next == UInt8(ascii: "!") {
                    let rest = bytes[(index + 2)...]
                    if !rest.starts(with: Array("--".utf8)) && !rest.starts(with: Array("[CDATA[".utf8)) {
                        return "document type declarations are not allowed"
                    }
                }
            }
            index += 1
        }
        return nil
    }

    /// The `encoding` of an XML declaration (`<?xml version="1.0" encoding="..."?>`) at the start, if any.
    static func declaredEncoding(_ bytes: [UInt8]) -> String? {
        let start = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }
        guard start.starts(with: Array("<?xml".utf8)), let close = start.firstIndex(of: UInt8(ascii: ">")) else { return nil }
        let declaration = String(decoding: start[start.startIndex..<close], as: UTF8.self)
        guard let range = declaration.range(of: "encoding") else { return nil }
        let rest = declaration[range.upperBound...].drop { $0 == " " || $0 == "=" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix { $0 != quote })
    }
}

/// The body of `CompleteMultipartUpload`.
public struct CompleteMultipartUploadRequest: Sendable, Hashable {
    /// One listed part.
    public struct Part: Sendable, Hashable {
        /// 1...10000.
        public var partNumber: Int
        /// The ETag as sent (usually quoted; compare with `EntityTag.unquote`).
        public var etag: String
        /// `ChecksumCRC32` ... `ChecksumSHA256` elements, in document order.
        public var checksums: [ChecksumField]

        /// Creates a part entry.
        public init(partNumber: Int, etag: String, checksums: [ChecksumField] = []) {
            self.partNumber = partNumber
            self.etag = etag
            self.checksums = checksums
        }
    }

    /// The parts in document order (the Gateway checks ascending order: `InvalidPartOrder`).
    public var parts: [Part]

    /// Creates a request.
    public init(parts: [Part]) { self.parts = parts }

    /// Parses the body. Throws `.malformedXML` for a body without parts, a part without PartNumber or ETag.
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> CompleteMultipartUploadRequest {
        let root = try XMLTree.parse(body, rootName: "CompleteMultipartUpload")
        var parts: [Part] = []
        for node in root.children("Part") {
            guard let numberText = node.child("PartNumber")?.text.trimmingSpaces() else {
                throw .malformedXML(reason: "Part without PartNumber")
            }
            guard numberText.utf8.count <= 5, numberText.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let number = Int(numberText), (1...S3Limits.partNumberMax).contains(number)
            else { throw .invalidPartNumber(String(numberText.prefix(16))) }
            guard let etag = node.child("ETag")?.text.trimmingSpaces(), !etag.isEmpty else {
                throw .malformedXML(reason: "Part without ETag")
            }
            var checksums: [ChecksumField] = []
            for child in node.children where child.name.hasPrefix("Checksum") {
                guard let algorithm = ChecksumAlgorithm(name: child.name.dropFirst("Checksum".count)) else { continue }
                checksums.append(ChecksumField(algorithm: algorithm, value: String(child.text.trimmingSpaces())))
            }
            parts.append(Part(partNumber: number, etag: String(etag), checksums: checksums))
            guard parts.count <= S3Limits.partNumberMax else { throw .malformedXML(reason: "more than \(S3Limits.partNumberMax) parts") }
        }
        guard !parts.isEmpty else { throw .malformedXML(reason: "no Part elements") }
        return CompleteMultipartUploadRequest(parts: parts)
    }
}

/// The body of `DeleteObjects`.
public struct DeleteObjectsRequest: Sendable, Hashable {
    /// One object to delete.
    public struct Object: Sendable, Hashable {
        public var key: String
        public var versionID: String?

        /// Creates an entry.
        public init(key: String, versionID: String? = nil) {
            self.key = key
            self.versionID = versionID
        }
    }

    /// The objects in document order (1 to 1000).
    public var objects: [Object]
    /// `<Quiet>true</Quiet>`: report only errors.
    public var quiet: Bool

    /// Creates a request.
    public init(objects: [Object], quiet: Bool) {
        self.objects = objects
        self.quiet = quiet
    }

    /// Parses the body. Keys are kept exactly (no trimming); an Object without Key is malformed.
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> DeleteObjectsRequest {
        let root = try XMLTree.parse(body, rootName: "Delete")
        var objects: [Object] = []
        for node in root.children("Object") {
            guard let key = node.child("Key")?.text else { throw .malformedXML(reason: "Object without Key") }
            objects.append(Object(key: key, versionID: node.child("VersionId")?.text))
            guard objects.count <= S3Limits.deleteObjectsCountMax else { throw .tooManyObjects(count: objects.count) }
        }
        guard !objects.isEmpty else { throw .tooManyObjects(count: 0) }
        var quiet = false
        if let quietText = root.child("Quiet")?.text.trimmingSpaces().lowercased() {
            guard quietText == "true" || quietText == "false" else { throw .malformedXML(reason: "Quiet must be true or false") }
            quiet = quietText == "true"
        }
        return DeleteObjectsRequest(objects: objects, quiet: quiet)
    }
}

/// The body of `PutBucketVersioning`.
public struct VersioningConfiguration: Sendable, Hashable {
    /// `Enabled` or `Suspended`; nil when absent (S3 then changes nothing).
    public var status: String?
    /// `Enabled` or `Disabled`; nil when absent.
    public var mfaDelete: String?

    /// Creates a configuration.
    public init(status: String?, mfaDelete: String?) {
        self.status = status
        self.mfaDelete = mfaDelete
    }

    /// Parses the body; a `Status` or `MfaDelete` with any other value is malformed, as S3 answers it.
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> VersioningConfiguration {
        let root = try XMLTree.parse(body, rootName: "VersioningConfiguration")
        let status = root.child("Status").map { String($0.text.trimmingSpaces()) }
        let mfaDelete = root.child("MfaDelete").map { String($0.text.trimmingSpaces()) }
        if let status, status != "Enabled" && status != "Suspended" {
            throw .malformedXML(reason: "Status must be Enabled or Suspended")
        }
        if let mfaDelete, mfaDelete != "Enabled" && mfaDelete != "Disabled" {
            throw .malformedXML(reason: "MfaDelete must be Enabled or Disabled")
        }
        return VersioningConfiguration(status: status, mfaDelete: mfaDelete)
    }
}

/// The optional body of `CreateBucket`.
public struct CreateBucketConfiguration: Sendable, Hashable {
    /// The requested region, if any.
    public var locationConstraint: String?

    /// Creates a configuration.
    public init(locationConstraint: String?) { self.locationConstraint = locationConstraint }

    /// Parses the body; an empty (or whitespace-only) body means no configuration.
    public static func parse(_ body: [UInt8]) throws(XMLRequestError) -> CreateBucketConfiguration {
        guard body.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            return CreateBucketConfiguration(locationConstraint: nil)
        }
        let root = try XMLTree.parse(body, rootName: "CreateBucketConfiguration")
        guard let node = root.child("LocationConstraint") else { return CreateBucketConfiguration(locationConstraint: nil) }
        let region = String(node.text.trimmingSpaces())
        guard !region.isEmpty, region.count <= 64,
            region.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
        else { throw .invalidLocationConstraint(String(region.prefix(64))) }
        return CreateBucketConfiguration(locationConstraint: region)
    }
}
