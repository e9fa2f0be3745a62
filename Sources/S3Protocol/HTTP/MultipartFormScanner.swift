/// Splits a `multipart/form-data` body (RFC 7578) into parts, incrementally: bytes go in as they arrive,
/// events come out, and a part's body is handed out in pieces as soon as it cannot be the start of the
/// closing delimiter, so a large file part streams through in bounded memory. Pure: no I/O.
///
/// Who calls what: the Gateway's POST Object handler `append`s each piece of the request body, then calls
/// `next()` until it answers nil (more input needed), and `finish()` when the body has ended.
public struct MultipartFormScanner: Sendable {
    /// One thing found in the body, in order.
    public enum Event: Sendable, Equatable {
        /// A part begins: its `Content-Disposition` name and filename, and its `Content-Type`.
        case partStart(name: String, filename: String?, contentType: String?)
        /// Bytes of the current part's body (a part may have several, or none).
        case data([UInt8])
        /// The current part's body ended.
        case partEnd
        /// The closing delimiter: nothing after it is read.
        case end
    }

    private enum State: Sendable {
        /// Before the first delimiter; after a delimiter; in a part's headers; in its body; its last bytes
        /// handed out, its end not yet; after the closing delimiter.
        case preamble, afterDelimiter, headers, body, bodyEnded, done
    }

    /// `--boundary`, then `\r\n--boundary` inside the body.
    private let dashBoundary: [UInt8]
    private let delimiter: [UInt8]
    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.preamble

    /// A scanner for the boundary of `contentType` (`multipart/form-data; boundary=…`, quoted or not).
    public init(contentType: String) throws(MultipartFormError) {
        guard let boundary = Self.boundary(of: contentType) else { throw .notMultipart }
        self.init(boundary: boundary)
    }

    public init(boundary: String) {
        dashBoundary = Array(("--" + boundary).utf8)
        delimiter = Array(("\r\n--" + boundary).utf8)
    }

    /// The boundary parameter of a `multipart/form-data` content type, nil for another type.
    public static func boundary(of contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard (1...S3Limits.multipartBoundaryBytesMax).contains(value.utf8.count) else { return nil }
            return value
        }
        return nil
    }

    /// Adds bytes of the body.
    public mutating func append(_ bytes: [UInt8]) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more input is needed.
    public mutating func next() throws(MultipartFormError) -> Event? {
        switch state {
        case .done:
            return nil
        case .preamble:
            // The first delimiter may open the body directly, or follow a preamble (ignored).
            if let at = find(dashBoundary, from: start) {
                start = at + dashBoundary.count
                state = .afterDelimiter
                return try next()
            }
            guard buffer.count - start <= S3Limits.multipartHeaderBytesMax else { throw .malformed("no opening boundary") }
            return nil
        case .afterDelimiter:
            guard buffer.count - start >= 2 else { return nil }
            if buffer[start] == 0x2D && buffer[start + 1] == 0x2D {  // "--": the closing delimiter
                state = .done
                return .end
            }
            // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
            var cursor = start
            while cursor < buffer.count, buffer[cursor] == 0x20 || buffer[cursor] == 0x09 { cursor += 1 }
            guard buffer.count - cursor >= 2 else { return nil }
            guard buffer[cursor] == 0x0D && buffer[cursor + 1] == 0x0A else { throw .malformed("no CRLF after a boundary") }
            start = cursor + 2
            state = .headers
            return try next()
        case .headers:
            let block: [UInt8]
            if buffer.count - start >= 2, buffer[start] == 0x0D, buffer[start + 1] == 0x0A {
                block = []  // no header lines at all
                start += 2
            } else if let end = find([0x0D, 0x0A, 0x0D, 0x0A], from: start) {
                block = Array(buffer[start..<end])
                start = end + 4
            } else {
                guard buffer.count - start <= S3Limits.multipartHeaderBytesMax else { throw .malformed("part headers too long") }
                return nil
            }
            state = .body
            return try Self.partStart(headers: block)
        case .bodyEnded:
            state = .afterDelimiter
            return .partEnd
        case .body:
            if let at = find(delimiter, from: start) {
                let data = Array(buffer[start..<at])
                start = at + delimiter.count
                // The part's last bytes, then (at the following call) its end.
                state = data.isEmpty ? .afterDelimiter : .bodyEnded
                return data.isEmpty ? .partEnd : .data(data)
            }
            // Everything except a tail that could begin the delimiter is part data.
            let safeEnd = max(start, buffer.count - (delimiter.count - 1))
            guard safeEnd > start else { return nil }
            let data = Array(buffer[start..<safeEnd])
            start = safeEnd
            return .data(data)
        }
    }

    /// The body ended: throws unless the closing delimiter was seen.
    public func finish() throws(MultipartFormError) {
        guard case .done = state else { throw .malformed("the body ended before its closing boundary") }
    }

    private static func partStart(headers: [UInt8]) throws(MultipartFormError) -> Event {
        var name: String?
        var filename: String?
        var contentType: String?
        for line in String(decoding: headers, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("a part header without a colon") }
            let field = line[..<colon].trimmingCharacters(in: " \t").lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            switch field {
            case "content-disposition":
                let parameters = Self.parameters(value)
                guard parameters.first?.key == "form-data" else { throw .malformed("a part that is not form-data") }
                name = parameters.first { $0.key == "name" }?.value
                filename = parameters.first { $0.key == "filename" }?.value
            case "content-type":
                contentType = value
            default:
                continue
            }
        }
        guard let name, !name.isEmpty else { throw .malformed("a part without a name") }
        return .partStart(name: name, filename: filename, contentType: contentType)
    }

    /// `form-data; name="a"; filename="b"` as [("form-data", ""), ("name", "a"), ("filename", "b")].
    private static func parameters(_ value: String) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        var chars = Array(value)
        var index = 0
        func skipSpaces() { while index < chars.count, chars[index] == " " || chars[index] == "\t" { index += 1 } }
        while index < chars.count {
            skipSpaces()
            var key = ""
            while index < chars.count, chars[index] != "=", chars[index] != ";" { key.append(chars[index]); index += 1 }
            var parsed = ""
            if index < chars.count, chars[index] == "=" {
                index += 1
                skipSpaces()
                if index < chars.count, chars[index] == "\"" {
                    index += 1
                    while index < chars.count, chars[index] != "\"" {
                        if chars[index] == "\\", index + 1 < chars.count { index += 1 }
                        parsed.append(chars[index])
                        index += 1
                    }
                    index += 1
                } else {
                    while index < chars.count, chars[index] != ";" { parsed.append(chars[index]); index += 1 }
                }
            }
            result.append((key.trimmingCharacters(in: " \t").lowercased(), parsed.trimmingCharacters(in: " \t")))
            while index < chars.count, chars[index] != ";" { index += 1 }
            index += 1
        }
        chars.removeAll()
        return result
    }

    /// The first index at or after `from` where `needle` starts, nil when it does not occur whole.
    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, buffer.count - from >= needle.count else { return nil }
        var index = from
        let last = buffer.count - needle.count
        while index <= last {
            if buffer[index] == first {
                var matched = true
                for offset in 1..<needle.count where buffer[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}

/// Why a `multipart/form-data` body could not be read.
public enum MultipartFormError: Error, Sendable, Equatable {
    /// The content type is not `multipart/form-data` with a usable boundary.
    case notMultipart
    /// The body does not follow RFC 7578 (the reason says where).
    case malformed(String)
}

private extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
