#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a `silo-history/1` file one event at a time, so a long soak history never has to fit in memory
/// twice.
///
/// Use: `let reader = try HistoryReader(path: p)`, read `reader.header`, then call `next()` until it returns
/// nil. The reader checks that the first line is a header and that event indices strictly increase. It is
/// not thread-safe: one reader, one caller.
public final class HistoryReader {
    /// The file's first line.
    public let header: HistoryHeader

    private var source: LineSource
    private var lastIndex: Int? = nil

    /// Opens the file at `path` and reads its header.
    public init(path: String) throws(HistoryError) {
        var source = try LineSource(path: path)
        guard let first = try source.nextLine() else { throw .missingHeader }
        self.header = try HistoryLineCodec.decodeHeader(first)
        self.source = source
    }

    /// Reads a history held in memory (for example `HistoryWriter.text` of an in-memory writer).
    public init(text: String) throws(HistoryError) {
        var source = LineSource(bytes: Array(text.utf8))
        guard let first = try source.nextLine() else { throw .missingHeader }
        self.header = try HistoryLineCodec.decodeHeader(first)
        self.source = source
    }

    /// The next event, or nil at the end of the file. Blank lines are skipped.
    public func next() throws(HistoryError) -> HistoryEvent? {
        guard let bytes = try source.nextLine() else { return nil }
        let event = try HistoryLineCodec.decodeEvent(bytes, line: source.lineNumber)
        if let lastIndex, event.index <= lastIndex {
            throw .indexNotIncreasing(index: event.index, previous: lastIndex)
        }
        lastIndex = event.index
        return event
    }

    /// Every remaining event.
    public func readAll() throws(HistoryError) -> [HistoryEvent] {
        var events: [HistoryEvent] = []
        while let event = try next() { events.append(event) }
        return events
    }

    /// Reads a whole file.
    public static func read(path: String) throws(HistoryError) -> History {
        let reader = try HistoryReader(path: path)
        return History(header: reader.header, events: try reader.readAll())
    }

    /// Reads a whole history from text.
    public static func parse(text: String) throws(HistoryError) -> History {
        let reader = try HistoryReader(text: text)
        return History(header: reader.header, events: try reader.readAll())
    }
}

/// Splits a file descriptor or a byte array into lines, reading the file in bounded chunks.
struct LineSource: ~Copyable {
    private var descriptor: Int32 = -1
    private let path: String
    private var buffer: [UInt8] = []
    private var scratch: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// 1-based number of the line last returned.
    private(set) var lineNumber = 0

    init(path: String) throws(HistoryError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        descriptor = fd
    }

    init(bytes: [UInt8]) {
        path = "<memory>"
        buffer = bytes
        atEnd = true
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The next non-blank line without its terminator, or nil at the end.
    mutating func nextLine() throws(HistoryError) -> [UInt8]? {
        var scanned = 0  // bytes after `start` already searched for a newline
        while true {
            if let newline = findNewline(from: start + scanned) {
                let line = takeLine(upTo: newline)
                start = newline + 1
                scanned = 0
                if line.isEmpty { continue }
                return line
            }
            scanned = buffer.count - start
            if scanned > HistoryCheckerLimits.lineBytesMax { throw .lineTooLong(line: lineNumber + 1) }
            if atEnd {
                guard scanned > 0 else { return nil }
                let line = takeLine(upTo: buffer.count)
                start = buffer.count
                scanned = 0
                if line.isEmpty { continue }
                return line
            }
            try fill()
        }
    }

    /// The index of the next newline at or after `from`, found with `memchr` (fast in debug builds too).
    private func findNewline(from: Int) -> Int? {
        guard from < buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { raw -> Int? in
            let base = raw.baseAddress!
            guard let hit = memchr(base + from, Int32(UInt8(ascii: "\n")), raw.count - from) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    private mutating func takeLine(upTo end: Int) -> [UInt8] {
        lineNumber += 1
        var length = end - start
        if length > 0 && buffer[end - 1] == UInt8(ascii: "\r") { length -= 1 }
        let from = start
        return buffer.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: $0.baseAddress! + from, count: length)) }
    }

    private mutating func fill() throws(HistoryError) {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        let chunk = HistoryCheckerLimits.readChunkBytes
        if scratch.count != chunk { scratch = Array(repeating: 0, count: chunk) }
        let fd = descriptor
        let n = scratch.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress!, chunk) }
        guard n >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        scratch.withUnsafeBufferPointer { raw in
            buffer.append(contentsOf: UnsafeBufferPointer(start: raw.baseAddress!, count: n))
        }
        if n == 0 { atEnd = true }
    }
}
