import HTTPTypes
import MetaQuorum
import S3Protocol

/// Reading the object headers a request sets (standard headers, user metadata, preconditions) and
/// writing the ones a response returns.
enum ObjectHeaders {
    /// The standard headers S3 stores with an object and returns on GET/HEAD.
    static let storedNames = ["cache-control", "content-disposition", "content-encoding", "content-language",
                              "content-type", "expires"]

    static func stored(from headers: HTTPFields) -> [HeaderField] {
        storedNames.compactMap { name in
            guard var value = headers[HTTPField.Name(name)!] else { return nil }
            if name == "content-encoding" {
                // aws-chunked is transfer framing, not a property of the object.
                let codings = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { $0.lowercased() != "aws-chunked" && !$0.isEmpty }
                if codings.isEmpty { return nil }
                value = codings.joined(separator: ",")
            }
            return HeaderField(name: name, value: value)
        }
    }

    /// `x-amz-meta-*` headers, names lower-cased without the prefix, sorted by name. Throws
    /// MetadataTooLarge past 2 KiB (names and values in UTF-8, as S3 counts).
    static func userMetadata(from headers: HTTPFields) throws -> [HeaderField] {
        var fields: [String: String] = [:]
        for field in headers {
            let name = field.name.canonicalName
            guard name.hasPrefix("x-amz-meta-") else { continue }
            let short = String(name.dropFirst("x-amz-meta-".count))
            if let existing = fields[short] { fields[short] = existing + "," + field.value } else { fields[short] = field.value }
        }
        let result = fields.keys.sorted().map { HeaderField(name: $0, value: fields[$0]!) }
        let size = result.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        if size > UserMetadata.sizeBytesMax {
            throw S3Error(.metadataTooLarge, details: [("Size", String(size)), ("MaxSizeAllowed", String(UserMetadata.sizeBytesMax))])
        }
        return result
    }

    /// `If-None-Match: *` or `If-Match: "etag"` on a write, decided by the state machine at apply time.
    static func writePrecondition(from headers: HTTPFields) throws -> WritePrecondition {
        let ifNoneMatch = headers[.ifNoneMatch]
        let ifMatch = headers[.ifMatch]
        switch (ifNoneMatch, ifMatch) {
        case (nil, nil): return .none
        case (let value?, nil):
            guard value.trimmingCharacters(in: .whitespaces) == "*" else {
                throw S3Error(.notImplemented, "If-None-Match on a write accepts only '*'.")
            }
            return .ifNoneMatchAny
        case (nil, let value?):
            return .ifMatch(ETag.unquote(value.trimmingCharacters(in: .whitespaces)))
        case (.some, .some):
            throw S3Error(.notImplemented, "If-Match together with If-None-Match on a write is not supported.")
        }
    }

    /// Response headers describing `object`: ETag, Last-Modified, stored headers, user metadata.
    static func describe(_ object: ObjectRecord, into headers: inout HTTPFields) {
        headers[.eTag] = ETag.quote(object.etag)
        headers[.lastModified] = HTTPDate.format(milliseconds: object.lastModifiedTime)
        headers[.acceptRanges] = "bytes"
        for field in object.headers { headers[HTTPField.Name(field.name)!] = field.value }
        if headers[.contentType] == nil { headers[.contentType] = "binary/octet-stream" }
        for field in object.userMetadata {
            if let name = HTTPField.Name("x-amz-meta-" + field.name) { headers[name] = field.value }
        }
    }

    static func describe(_ checksum: StoredChecksum, into headers: inout HTTPFields) {
        headers[HTTPField.Name("x-amz-checksum-" + checksum.algorithm.lowercased())!] = checksum.value
        headers[HTTPField.Name("x-amz-checksum-type")!] = checksum.type
    }
}
