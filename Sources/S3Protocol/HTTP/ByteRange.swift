/// One byte range of a `Range: bytes=...` header. S3 supports a single range per request.
public enum ByteRange: Sendable, Hashable {
    /// `bytes=first-last` (inclusive).
    case closed(first: Int64, last: Int64)
    /// `bytes=first-`.
    case from(first: Int64)
    /// `bytes=-length`: the last `length` bytes.
    case suffix(length: Int64)

    /// Reads a `Range` header for GetObject / HeadObject. Nil means "serve the whole object with 200": the
    /// header is not a single valid byte range. S3 ignores multiple ranges (`bytes=0-1,5-6`) and syntactically
    /// invalid ranges (`bytes=5-2`, `items=0-1`) and answers with the whole object, as RFC 9110 allows.
    public static func parse(_ header: String) -> ByteRange? {
        guard header.utf8.count <= S3Limits.rangeHeaderBytesMax else { return nil }
        let trimmed = header.trimmingSpaces()
        guard trimmed.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = trimmed.dropFirst("bytes=".count).trimmingSpaces()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let firstText = spec[..<dash].trimmingSpaces()
        let lastText = spec[spec.index(after: dash)...].trimmingSpaces()
        switch (number(firstText), number(lastText)) {
        case (.some(let first), .some(let last)):
            return first <= last ? .closed(first: first, last: last) : nil
        case (.some(let first), .none) where lastText.isEmpty:
            return .from(first: first)
        case (.none, .some(let length)) where firstText.isEmpty:
            return .suffix(length: length)
        default:
            return nil
        }
    }

    /// Reads `x-amz-copy-source-range` (UploadPartCopy), which must be `bytes=first-last`. Nil for anything
    /// else (the Gateway answers `InvalidArgument`).
    public static func parseCopySourceRange(_ header: String) -> ByteRange? {
        guard case .closed(let first, let last)? = parse(header) else { return nil }
        return .closed(first: first, last: last)
    }

    /// The bytes to send from an object of `size` bytes, or `.unsatisfiable` (416 `InvalidRange`).
    /// A suffix longer than the object selects all of it; a last position past the end is clamped.
    /// Every range of an empty object is unsatisfiable.
    public func resolve(size: Int64) -> ResolvedRange {
        precondition(size >= 0, "object size \(size)")
        switch self {
        case .closed(let first, let last):
            guard first < size else { return .unsatisfiable }
            return .satisfiable(first: first, last: min(last, size - 1))
        case .from(let first):
            guard first < size else { return .unsatisfiable }
            return .satisfiable(first: first, last: size - 1)
        case .suffix(let length):
            guard length > 0, size > 0 else { return .unsatisfiable }
            return .satisfiable(first: max(0, size - length), last: size - 1)
        }
    }

    private static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int64(text)
    }
}

/// A range resolved against an object's size.
public enum ResolvedRange: Sendable, Hashable {
    /// Bytes `first...last` (inclusive) exist: answer 206 with `Content-Range`.
    case satisfiable(first: Int64, last: Int64)
    /// Nothing of the range exists: answer 416 `InvalidRange` with `Content-Range: bytes */size`.
    case unsatisfiable

    /// The byte count of a satisfiable range (0 for unsatisfiable).
    public var byteCount: Int64 {
        if case .satisfiable(let first, let last) = self { return last - first + 1 }
        return 0
    }

    /// `Content-Range` for a response about an object of `size` bytes: `bytes 0-9/100` or `bytes */100`.
    public func contentRange(size: Int64) -> String {
        switch self {
        case .satisfiable(let first, let last): return "bytes \(first)-\(last)/\(size)"
        case .unsatisfiable: return "bytes */\(size)"
        }
    }
}
