import HTTPTypes
import MetaContract
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
                // aws-chunked is transfer framing, not a property of the object: it is removed, and the
                // client's other codings are kept as sent (`deflate, gzip` stays `deflate, gzip`).
                let codings = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let kept = codings.filter { $0.lowercased() != "aws-chunked" && !$0.isEmpty }
                if kept.isEmpty { return nil }
                if kept.count != codings.count { value = kept.joined(separator: ", ") }
            }
            return HeaderField(name: name, value: value)
        }
    }

    /// `x-amz-meta-*` headers, names lower-cased without the prefix, sorted by name. Throws
    /// `UserMetadataError` (MetadataTooLarge past 2 KiB).
    static func userMetadata(from call: S3Call) throws -> [HeaderField] {
        try UserMetadata.parse(headers: call.headerList).map { HeaderField(name: $0.name, value: $0.value) }
            .sorted { $0.name < $1.name }
    }

    /// `If-None-Match` (`*` or an ETag) or `If-Match` (an ETag or `*`) on a write, decided by the state
    /// machine at apply time.
    static func writePrecondition(from headers: HTTPFields) throws -> WritePrecondition {
        let ifNoneMatch = headers[.ifNoneMatch]?.trimmingCharacters(in: .whitespaces)
        let ifMatch = headers[.ifMatch]?.trimmingCharacters(in: .whitespaces)
        switch (ifNoneMatch, ifMatch) {
        case (nil, nil): return .none
        case (let value?, nil):
            return value == "*" ? .ifNoneMatchAny : .ifNoneMatch(EntityTag.unquote(value))
        case (nil, let value?):
            return value == "*" ? .ifMatchAny : .ifMatch(EntityTag.unquote(value))
        case (.some, .some):
            throw S3Error(.notImplemented, "If-Match together with If-None-Match on a write is not supported.")
        }
    }

    /// Refuses headers that ask for something Silo does not do, rather than storing the object without it:
    /// server-side encryption, storage classes other than STANDARD, website redirects. Object lock headers
    /// are read by `requestedLock` (and `x-amz-bucket-object-lock-enabled` by CreateBucket). A silent success
    /// would be a wrong success. ACL headers (`x-amz-acl`, `x-amz-grant-*`) are read by `ACLResolver`, which
    /// refuses what it cannot store.
    static func refuseUnsupported(_ headers: HTTPFields, bucketCreation: Bool = false) throws {
        for field in headers {
            let name = field.name.canonicalName
            let value = field.value.trimmingCharacters(in: .whitespaces)
            let unsupported: Bool
            switch name {
            case "x-amz-storage-class": unsupported = value.uppercased() != "STANDARD"
            case "x-amz-object-ownership":
                guard bucketCreation else { unsupported = false; break }
                guard ObjectOwnership(rawValue: value) != nil else {
                    throw S3Error(.invalidArgument, "Invalid x-amz-object-ownership header: \(value)",
                                  details: [("ArgumentName", "x-amz-object-ownership"), ("ArgumentValue", value)])
                }
                unsupported = false
            case "x-amz-website-redirect-location":
                unsupported = !bucketCreation
            default:
                unsupported = name.hasPrefix("x-amz-server-side-encryption")
            }
            if unsupported {
                throw S3Error(.notImplemented, "\(name): \(value) is not implemented by Silo.",
                              details: [("Header", name)])
            }
        }
    }

    /// Response headers describing `object`: ETag, Last-Modified, stored headers, user metadata.
    static func describe(_ object: ObjectRecord, into headers: inout HTTPFields) {
        headers[.eTag] = EntityTag.quote(object.etag)
        headers[.lastModified] = S3Time.httpDate(milliseconds: object.lastModifiedTime)
        headers[.acceptRanges] = "bytes"
        for field in object.headers
        where field.name != ObjectRecord.tagsHeaderName && !ObjectRecord.isLockHeaderName(field.name) {
            headers[HTTPField.Name(field.name)!] = field.value
        }
        if headers[.contentType] == nil { headers[.contentType] = "binary/octet-stream" }
        for field in object.userMetadata {
            if let name = HTTPField.Name("x-amz-meta-" + field.name) { headers[name] = field.value }
        }
    }

    /// `x-amz-object-lock-mode`, `-retain-until-date` and `-legal-hold` on GET and HEAD, for what the
    /// version has: its retention when `retention` (the caller may read it), its legal hold when `legalHold`.
    static func describeLock(_ object: ObjectRecord, retention showsRetention: Bool, legalHold showsHold: Bool,
                             into headers: inout HTTPFields) {
        if showsRetention, let retention = object.retention {
            headers[HTTPField.Name("x-amz-object-lock-mode")!] = retention.mode.name
            headers[HTTPField.Name("x-amz-object-lock-retain-until-date")!] =
                S3Time.iso8601(milliseconds: retention.retainUntil)
        }
        if showsHold, let hold = object.legalHold {
            headers[HTTPField.Name("x-amz-object-lock-legal-hold")!] = hold ? "ON" : "OFF"
        }
    }

    /// The object lock a PutObject, CopyObject or CreateMultipartUpload asks for, as `headers` entries
    /// (`ObjectRecord.retention`, `.legalHold`): `x-amz-object-lock-mode` and
    /// `x-amz-object-lock-retain-until-date` together (a date in the future, after `now`), and
    /// `x-amz-object-lock-legal-hold` ON or OFF. Whether the bucket has object lock is decided at apply
    /// time. Throws InvalidArgument as S3 answers it.
    static func requestedLock(_ headers: HTTPFields, now: Int64) throws -> [HeaderField] {
        func header(_ name: String) -> String? {
            headers[HTTPField.Name(name)!]?.trimmingCharacters(in: .whitespaces)
        }
        func invalid(_ message: String, _ name: String, _ value: String) -> S3Error {
            S3Error(.invalidArgument, message,
                    details: [("ArgumentName", name), ("ArgumentValue", String(value.prefix(64)))])
        }
        var record = ObjectRecord(bucket: "", key: "", versionID: "", sizeBytes: 0, etag: "", lastModifiedTime: 0,
                                  headers: [], userMetadata: [], checksum: nil, chunks: [], partSizes: [])
        switch (header("x-amz-object-lock-mode"), header("x-amz-object-lock-retain-until-date")) {
        case (nil, nil):
            break
        case (let modeName?, let date?):
            guard let mode = RetentionMode(name: modeName) else {
                throw invalid("Unknown wormMode directive.", "x-amz-object-lock-mode", modeName)
            }
            guard let until = S3Time.parseISO8601(date) else {
                throw invalid("The retain until date must be provided in ISO 8601 format",
                              "x-amz-object-lock-retain-until-date", date)
            }
            guard until > now else {
                throw invalid("The retain until date must be in the future!",
                              "x-amz-object-lock-retain-until-date", date)
            }
            record.retention = ObjectRetention(mode: mode, retainUntil: until)
        case (let mode, let date):
            throw invalid("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
                          mode == nil ? "x-amz-object-lock-mode" : "x-amz-object-lock-retain-until-date",
                          mode ?? date ?? "")
        }
        if let hold = header("x-amz-object-lock-legal-hold") {
            guard hold == "ON" || hold == "OFF" else {
                throw invalid("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold", hold)
            }
            record.legalHold = hold == "ON"
        }
        return record.headers
    }

    /// `x-amz-tagging-count` on GET and HEAD, when the version has tags.
    static func describeTagCount(_ object: ObjectRecord, into headers: inout HTTPFields) {
        guard let stored = object.storedTags, let tags = TagSet(storedForm: stored), !tags.isEmpty else { return }
        headers[HTTPField.Name("x-amz-tagging-count")!] = String(tags.count)
    }

    /// The tags `x-amz-tagging` asks for on PutObject, CreateMultipartUpload or a copy; nil without the
    /// header. Throws `TaggingError` (InvalidTag, InvalidArgument).
    static func requestedTags(_ headers: HTTPFields) throws -> TagSet? {
        guard let value = headers[HTTPField.Name("x-amz-tagging")!] else { return nil }
        return try TagSet.parseHeader(value)
    }

    static func describe(_ checksum: StoredChecksum, into headers: inout HTTPFields) {
        headers[HTTPField.Name("x-amz-checksum-" + checksum.algorithm.lowercased())!] = checksum.value
        headers[HTTPField.Name("x-amz-checksum-type")!] = checksum.type
    }
}
