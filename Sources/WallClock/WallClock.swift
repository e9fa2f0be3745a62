#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The one wall clock of every Silo process: milliseconds since the Unix epoch, for command times, chunk
/// write times, the garbage grace period and the orphan sweep (ordering never depends on it: RaftKit and
/// the state machine order everything by log index, and the leader stamps commands with max(its clock, the
/// last committed time)).
///
/// Fault injection (debug builds only; compiled out of release builds): with `SILO_FAULT_CLOCK_FILE` set,
/// the clock is shifted by the signed number of milliseconds that file holds (absent, empty or unreadable:
/// 0), re-read at most every `faultFileRereadMilliseconds`, so a test harness can bump or strobe one
/// process's clock while it runs (the Jepsen-style `clock-bump` and `clock-strobe` nemeses).
public enum WallClock {
    /// How stale the fault offset may be.
    public static let faultFileRereadMilliseconds: Int64 = 50

    /// Now, in milliseconds since the Unix epoch (shifted by the fault offset in debug builds).
    public static func nowMilliseconds() -> Int64 {
        let real = realMilliseconds()
        #if DEBUG
        return real + FaultOffset.shared.offset(at: real)
        #else
        return real
        #endif
    }

    /// The system's real-time clock, unshifted.
    public static func realMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

#if DEBUG
/// The offset from `SILO_FAULT_CLOCK_FILE`, cached for `faultFileRereadMilliseconds`.
final class FaultOffset: Sendable {
    static let shared = FaultOffset(path: getenv("SILO_FAULT_CLOCK_FILE").map { String(cString: $0) })

    let path: String?
    private let cache = Mutex<(readAt: Int64, offset: Int64)>((Int64.min, 0))

    init(path: String?) {
        self.path = path
    }

    func offset(at now: Int64) -> Int64 {
        guard let path else { return 0 }
        return cache.withLock { cached in
            if cached.readAt != .min, now >= cached.readAt, now - cached.readAt < WallClock.faultFileRereadMilliseconds {
                return cached.offset
            }
            cached = (now, Self.read(path))
            return cached.offset
        }
    }

    private static func read(_ path: String) -> Int64 {
        guard let file = fopen(path, "r") else { return 0 }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return 0 }
        let text = String(cString: buffer).trimmingCharacters(in: " \n\t")
        return Int64(text) ?? 0
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
#endif
