#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends `silo-history/1` lines to a file or to an in-memory buffer.
///
/// The header is written by `init`. Each `append` assigns the next `index` (0, 1, 2, ...) unless asked to
/// keep the event's own, and checks that indices strictly increase. File output is buffered: call `flush()`
/// to push lines to the kernel, and `close()` (or let the writer go) at the end. Not thread-safe: the
/// harness records from one place, which is also what makes `index` the observation order.
public final class HistoryWriter {
    private enum Sink {
        case memory
        case file(descriptor: Int32, path: String)
        case closed
    }

    private var sink: Sink
    private var pending: [UInt8] = []
    private var memoryText = ""
    /// The index the next appended event gets.
    public private(set) var nextIndex = 0

    /// A writer that keeps the lines in memory; read them back with `text`.
    public init(header: HistoryHeader) {
        sink = .memory
        writeLine(HistoryLineCodec.encode(header))
    }

    /// A writer that creates (or truncates) the file at `path` and writes the header line.
    public init(header: HistoryHeader, path: String) throws(HistoryError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        sink = .file(descriptor: fd, path: path)
        writeLine(HistoryLineCodec.encode(header))
    }

    deinit {
        try? close()
    }

    /// Appends one event and returns the index it was written with. With `keepingIndex` the event's own
    /// index is kept (it must be larger than the previous one); otherwise the writer numbers events.
    @discardableResult
    public func append(_ event: HistoryEvent, keepingIndex: Bool = false) throws(HistoryError) -> Int {
        var event = event
        if keepingIndex {
            guard event.index >= nextIndex else {
                throw .indexNotIncreasing(index: event.index, previous: nextIndex - 1)
            }
        } else {
            event.index = nextIndex
        }
        nextIndex = event.index + 1
        writeLine(HistoryLineCodec.encode(event))
        if pending.count >= HistoryCheckerLimits.readChunkBytes { try flush() }
        return event.index
    }

    /// The whole history so far, for an in-memory writer (header and events, one line each).
    public var text: String {
        if case .memory = sink { return memoryText }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Hands buffered lines to the kernel (file writers only).
    public func flush() throws(HistoryError) {
        guard case .file(let fd, let path) = sink else { return }
        var offset = 0
        while offset < pending.count {
            let n = pending.withUnsafeBytes { raw in
                write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, reason: String(cString: strerror(errno)))
            }
            offset += n
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file. Appending afterwards is a programming error.
    public func close() throws(HistoryError) {
        try flush()
        if case .file(let fd, _) = sink { _ = closeDescriptor(fd) }
        if case .file = sink { sink = .closed }
    }

    private func writeLine(_ line: String) {
        switch sink {
        case .memory:
            memoryText += line
            memoryText += "\n"
        case .file:
            pending.append(contentsOf: line.utf8)
            pending.append(UInt8(ascii: "\n"))
        case .closed:
            preconditionFailure("HistoryWriter: append after close (line \(line.prefix(80)))")
        }
    }
}

/// `close` is shadowed by `HistoryWriter.close()`; this names the system call unambiguously.
private func closeDescriptor(_ fd: Int32) -> Int32 {
    close(fd)
}
