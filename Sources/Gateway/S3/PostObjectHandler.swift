import Foundation
import HTTPTypes
import Hummingbird
import MetaContract
import NIOCore
import S3Protocol
import Synchronization

/// POST Object: a browser-based upload. The body is `multipart/form-data`: fields (`key`, `acl`,
/// `Content-Type`, `x-amz-meta-*`, `success_action_status`… and, when signed, `policy` with a SigV4 or
/// SigV2 signature of it), then the `file`. Fields after the file are ignored, as S3 does.
///
/// How it runs: a child task reads the request body through `MultipartFormScanner`, hands over the fields
/// once the file part starts, and waits. The handler checks the signature and the policy (expiry, every
/// condition, every field covered), then authorizes the PutObject the form describes for its signer (or
/// anonymously, when unsigned) and lets the child stream the file part, with back-pressure, into the
/// ordinary PutObject path (the same chunk writing, digests, ACL, metadata and stamps). Memory stays at
/// the fields (`S3Limits.postFormFieldsBytesMax`) plus a few body buffers, whatever the file's size.
extension S3Gateway {
    /// What the form said before its file.
    struct PostForm: Sendable {
        /// Field values by lower-cased name (the first of a repeated name).
        var fields: [String: String]
        var filename: String?
        var fileContentType: String?
    }

    func postObject(_ call: S3Call) async throws -> Response {
        let scanner: MultipartFormScanner
        do {
            scanner = try MultipartFormScanner(contentType: call.header("content-type") ?? "")
        } catch {
            throw S3Error(error)
        }
        let (fileBody, fileSource) = RequestBody.makeStream()
        let fileRead = PostedFileBody.Started()
        let (formStream, formContinuation) = AsyncThrowingStream<PostForm, any Error>.makeStream()
        let (goStream, goContinuation) = AsyncStream<Bool>.makeStream()
        let raw = call.rawBody
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await Self.readForm(raw, scanner: scanner, form: formContinuation, go: goStream, file: fileSource)
            }
            var response: Response?
            var failure: (any Error)?
            do {
                var forms = formStream.makeAsyncIterator()
                guard let form = try await forms.next() else {
                    throw S3Error(.invalidArgument, "POST requires exactly one file upload per request.")
                }
                var put = try await postedPut(call, form: form, body: fileBody, started: fileRead)
                try await authorize(&put)
                goContinuation.yield(true)
                do {
                    response = try await putObject(put).postResponse(form: form, bucket: call.bucket, key: put.key,
                                                                     location: put.resource)
                } catch {
                    // Refused before it read the file (a bad header, a stale bucket): read the file part here,
                    // so that the reader, which waits for it to be consumed, can drain the body and end.
                    if !fileRead.value { for try await _ in fileBody {} }
                    throw error
                }
            } catch {
                failure = error
            }
            goContinuation.yield(false)
            goContinuation.finish()
            // The reader ends on its own: the file consumed (or dropped), the rest of the body drained.
            do {
                try await group.waitForAll()
            } catch {
                if failure == nil { failure = error }
            }
            if let failure { throw failure }
            return response!
        }
    }

    /// The child task: reads the fields, yields them, and once told to go, streams the file part.
    private static func readForm(
        _ raw: RequestBody, scanner: MultipartFormScanner, form: AsyncThrowingStream<PostForm, any Error>.Continuation,
        go: AsyncStream<Bool>, file: RequestBody.Source
    ) async throws {
        var scanner = scanner
        // The file source must be finished on every path (NIO traps on a source dropped unfinished).
        var fileFinished = false
        defer { if !fileFinished { file.finish(S3Error(.malformedPOSTRequest, "The upload was not sent.")) } }
        var fields: [String: String] = [:]
        var fieldBytes = 0
        var current: (name: String, value: [UInt8])?
        var inFile = false
        var fileDone = false
        var streaming = false
        var delivered = false
        do {
            bodyLoop: for try await buffer in raw {
                scanner.append(Array(buffer.readableBytesView))
                while let event = try scanner.next() {
                    switch event {
                    case .partStart(let name, let filename, let contentType):
                        guard !fileDone else { continue }
                        if name.lowercased() == "file" {
                            inFile = true
                            delivered = true
                            form.yield(PostForm(fields: fields, filename: filename, fileContentType: contentType))
                            form.finish()
                            var goes = go.makeAsyncIterator()
                            streaming = await goes.next() == true
                            if !streaming { break bodyLoop }
                        } else {
                            // Names count too: many empty fields with long names are as large as one big field.
                            fieldBytes += name.utf8.count + (filename?.utf8.count ?? 0) + (contentType?.utf8.count ?? 0)
                            guard fieldBytes <= S3Limits.postFormFieldsBytesMax else {
                                throw S3Error(.maxPostPreDataLengthExceeded)
                            }
                            current = (name.lowercased(), [])
                        }
                    case .data(let bytes):
                        if inFile {
                            if streaming && !fileDone { await file.yield(ByteBuffer(bytes: bytes)) }
                        } else if current != nil, !fileDone {
                            fieldBytes += bytes.count
                            guard fieldBytes <= S3Limits.postFormFieldsBytesMax else {
                                throw S3Error(.maxPostPreDataLengthExceeded)
                            }
                            current!.value += bytes
                        }
                    case .partEnd:
                        if inFile {
                            inFile = false
                            fileDone = true
                            fileFinished = true
                            file.finish()
                        } else if let (name, value) = current {
                            if fields[name] == nil { fields[name] = String(decoding: value, as: UTF8.self) }
                            current = nil
                        }
                    case .end:
                        break
                    }
                }
            }
            if streaming { try scanner.finish() }
        } catch {
            // Before the fields are out, the form fails; while the file streams, the upload does; after the
            // file, what is left of the body does not matter (S3 ignores fields after the file).
            let mapped = S3Error.from(error)
            if !delivered {
                form.finish(throwing: mapped)
            } else if streaming && !fileDone {
                fileFinished = true
                file.finish(mapped)
            }
            return
        }
        if !delivered {
            // No file part at all.
            form.finish()
        } else if !fileDone && streaming {
            fileFinished = true
            file.finish(S3Error(.malformedPOSTRequest, "The file part ended before its boundary."))
        }
    }

    /// The PutObject the form describes: its signer checked against the policy, its fields as headers,
    /// the file part as body (bounded by the policy's content-length-range).
    private func postedPut(_ call: S3Call, form: PostForm, body: RequestBody, started: PostedFileBody.Started)
        async throws -> S3Call
    {
        var fields = form.fields
        guard var key = fields["key"], !key.isEmpty else {
            throw S3Error(.invalidArgument, "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
        }
        if let filename = form.filename, key.contains("${filename}") {
            let base = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? filename
            key = key.replacingOccurrences(of: "${filename}", with: base)
        }
        fields["key"] = key
        var user: UserRecord?
        var range: ClosedRange<Int64>?
        if let signature = try PostSignature.parse(fields: fields) {
            guard let signer = try await credentials.user(accessKeyID: signature.accessKeyID, now: call.now) else {
                throw S3Error(.invalidAccessKeyID)
            }
            let policyText = fields["policy"] ?? ""
            try signature.verify(policy: policyText, secretAccessKey: signer.secretAccessKey)
            let policy = try PostPolicy.parse(base64: policyText)
            try policy.check(fields: fields, bucket: call.bucket, now: call.now)
            range = policy.contentLengthRange
            user = signer
        }
        try validateKey(key)
        var headerList: [(name: String, value: String)] = []
        func add(_ name: String, _ value: String?) {
            if let value { headerList.append((name, value)) }
        }
        add("content-type", fields["content-type"] ?? form.fileContentType ?? "binary/octet-stream")
        for name in ["cache-control", "content-disposition", "content-encoding", "expires", "x-amz-storage-class",
                     "x-amz-server-side-encryption", "x-amz-website-redirect-location", "content-md5"] {
            add(name, fields[name])
        }
        add("x-amz-acl", fields["acl"])
        for (name, value) in fields.sorted(by: { $0.key < $1.key })
            where name.hasPrefix("x-amz-meta-") || name.hasPrefix("x-amz-checksum-") || name.hasPrefix("x-amz-grant-")
            || name.hasPrefix("x-amz-object-lock-") {
            add(name, value)
        }
        if let tagging = fields["tagging"] {
            add("x-amz-tagging", try TagSet.parse(Array(tagging.utf8), for: .object).storedForm)
        }
        // The file part's length is known only at its closing boundary, as with chunked framing.
        add("transfer-encoding", "chunked")
        var headers = HTTPFields()
        for (name, value) in headerList {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        var target = call.target
        target.endpoint = .putObject
        target.key = key
        let limited = PostedFileBody(base: body, range: range ?? 0...configuration.putSizeBytesMax, started: started)
        return S3Call(requestID: call.requestID, method: .put, headers: headers, headerList: headerList, target: target,
                      user: user, rawBody: RequestBody(asyncSequence: limited), verified: call.verified, now: call.now)
    }
}

/// The file part of a POST, checked against the policy's content-length-range as it streams: past the
/// maximum it fails EntityTooLarge, and at its end below the minimum EntityTooSmall (so nothing is stored).
struct PostedFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let range: ClosedRange<Int64>
    /// Set once the PutObject path starts reading (the file part can be read once).
    let started: Started

    final class Started: Sendable {
        private let flag = Mutex(false)
        var value: Bool { flag.withLock { $0 } }
        func set() { flag.withLock { $0 = true } }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let range: ClosedRange<Int64>
        var total: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else {
                if total < range.lowerBound {
                    throw S3Error(.entityTooSmall, "Your proposed upload is smaller than the minimum allowed size",
                                  details: [("ProposedSize", String(total)), ("MinSizeAllowed", String(range.lowerBound))])
                }
                return nil
            }
            total += Int64(buffer.readableBytes)
            if total > range.upperBound {
                throw S3Error(.entityTooLarge, details: [("ProposedSize", String(total)),
                                                         ("MaxSizeAllowed", String(range.upperBound))])
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        started.set()
        return AsyncIterator(base: base.makeAsyncIterator(), range: range)
    }
}

private extension Response {
    /// A PutObject's answer turned into POST Object's: `success_action_redirect` (303 to it with bucket, key
    /// and ETag), else `success_action_status` 200 or 201 (with a PostResponse document), else 204.
    func postResponse(form: S3Gateway.PostForm, bucket: String, key: String, location: String) -> Response {
        let etag = headers[.eTag] ?? ""
        var answer = HTTPFields()
        for name in ["x-amz-version-id", "x-amz-request-id"] {
            if let field = HTTPField.Name(name), let value = headers[field] { answer[field] = value }
        }
        if let redirect = form.fields["success_action_redirect"] ?? form.fields["redirect"],
           var components = URLComponents(string: redirect), components.scheme != nil {
            var items = components.queryItems ?? []
            items += [URLQueryItem(name: "bucket", value: bucket), URLQueryItem(name: "key", value: key),
                      URLQueryItem(name: "etag", value: etag)]
            components.queryItems = items
            if let url = components.string { answer[.location] = url }
            answer[.eTag] = etag
            return S3Gateway.emptyResponse(.seeOther, headers: answer)
        }
        answer[.eTag] = etag
        switch form.fields["success_action_status"] {
        case "200":
            return S3Gateway.emptyResponse(.ok, headers: answer)
        case "201":
            let xml = PostResponse(location: location, bucket: bucket, key: key, etag: etag).xml()
            return S3Gateway.xmlResponse(xml, status: .created, headers: answer)
        default:
            return S3Gateway.emptyResponse(.noContent, headers: answer)
        }
    }
}
