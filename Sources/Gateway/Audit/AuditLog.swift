import Foundation
import Synchronization

/// The audit trail of one gateway: one JSON line per S3 request, appended to a file (`--audit-log PATH`).
///
/// A line says when, which request id (the `x-amz-request-id` the client got), from which address, who
/// (the user's name and access key, or anonymous), what (operation, bucket, key), and how it ended (status,
/// S3 error code, bytes in and out, milliseconds). Secrets, signatures and object bytes never appear.
///
/// Promises: lines are whole and in the order requests finished; each is appended with one `write(2)` on a
/// file opened `O_APPEND` (mode 0600), so several gateways may share a file on one machine, and rotation
/// by copy-and-truncate (logrotate's `copytruncate`) keeps appending at the new end. Lines are not
/// fsynced: a crash of the machine may lose the last few.
/// Callers: `S3Gateway.respond` records every request except the health probe.
public final class AuditLog: Sendable {
    public let path: String
    private let descriptor = Mutex<Int32>(-1)

    /// Opens (creating, mode 0600) `path` for appending; throws `AuditLogError` naming it.
    public init(path: String) throws(AuditLogError) {
        self.path = path
        let fd = try Self.open(path)
        descriptor.withLock { $0 = fd }
    }

    public func close() {
        let old = descriptor.withLock { current in
            let old = current
            current = -1
            return old
        }
        if old >= 0 { Foundation.close(old) }
    }

    func record(_ entry: AuditEntry) {
        guard var line = try? Self.encoder.encode(entry) else { return }
        line.append(0x0A)
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = line.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        }
    }

    // Configured once, then only used to encode: JSONEncoder keeps no state between calls.
    nonisolated(unsafe) private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static func open(_ path: String) throws(AuditLogError) -> Int32 {
        let fd = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditLogError(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }
}

/// An audit log that cannot be opened.
public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot open the audit log \(path): \(reason)" }
}

/// One line of the audit log.
struct AuditEntry: Encodable, Sendable {
    /// ISO 8601 UTC with milliseconds.
    var time: String
    var requestID: String
    var remote: String?
    /// The signing user's name and access key; both nil for an anonymous request (or one refused before
    /// its signature was checked).
    var user: String?
    var accessKey: String?
    var operation: String
    var bucket: String?
    var key: String?
    var status: Int
    /// The S3 error code of a failed request.
    var error: String?
    var bytesIn: Int?
    var bytesOut: Int?
    var ms: Double

    static func timestamp(milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        return formatter.string(from: date)
    }

    // ISO8601DateFormatter is thread-safe once configured.
    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
