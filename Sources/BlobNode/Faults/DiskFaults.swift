#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import BlobContract

/// A blob node's disk faults, injected from outside while it runs (debug builds only; compiled out of
/// release builds): the Jepsen-style harness's N15 nemeses, `fill-blob-disk` and `eio-blob-disk`.
///
/// With `SILO_FAULT_BLOB_DISK_FILE` set, the file it names (absent or empty: no fault) holds `full` or
/// `eio`, re-read at most every `rereadMilliseconds`:
/// - `full`: the free-space probe answers 0 bytes, so every put is refused as a full disk would have it
///   (`BlobError.diskFull`, below the reserved floor), while reads and deletes go on;
/// - `eio`: every put and read fails with `BlobError.io`, as a disk that returns EIO.
/// Nothing is written or changed on disk: a healed node serves exactly what it held.
///
/// Who calls it: `LocalChunkStore` before a put or read, and in its free-space probe.
public enum DiskFaults {
    /// How stale the fault may be.
    public static let rereadMilliseconds: Int64 = 50

    /// The injected state of the disk now.
    enum State: Equatable {
        case healthy, full, eio
    }

    static var current: State {
        #if DEBUG
        return FaultFile.shared.state()
        #else
        return .healthy
        #endif
    }
}

#if DEBUG
/// The fault file named by `SILO_FAULT_BLOB_DISK_FILE`, cached for `DiskFaults.rereadMilliseconds`.
private final class FaultFile: Sendable {
    static let shared = FaultFile(path: getenv("SILO_FAULT_BLOB_DISK_FILE").map { String(cString: $0) })

    let path: String?
    private let cache = Mutex<(readAt: Int64, state: DiskFaults.State)>((Int64.min, .healthy))

    init(path: String?) {
        self.path = path
    }

    func state() -> DiskFaults.State {
        guard let path else { return .healthy }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nowMilliseconds = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
        return cache.withLock { cached in
            if cached.readAt != .min, nowMilliseconds - cached.readAt < DiskFaults.rereadMilliseconds {
                return cached.state
            }
            cached = (nowMilliseconds, Self.read(path))
            return cached.state
        }
    }

    private static func read(_ path: String) -> DiskFaults.State {
        guard let file = fopen(path, "r") else { return .healthy }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 16)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return .healthy }
        switch String(cString: buffer).filter({ !$0.isWhitespace }) {
        case "full": return .full
        case "eio": return .eio
        default: return .healthy
        }
    }
}
#endif
