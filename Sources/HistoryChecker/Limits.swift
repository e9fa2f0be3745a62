/// Every bound the HistoryChecker module enforces, in one place (STYLE.md §5).
public enum HistoryCheckerLimits {
    /// The longest history line the reader accepts. A longer line is a corrupt file, not a big op.
    public static let lineBytesMax = 16 * 1024 * 1024
    /// Bytes the streaming reader asks the file for at a time.
    static let readChunkBytes = 64 * 1024
    /// Nesting depth of JSON values the parser accepts (objects and arrays inside one another).
    static let jsonDepthMax = 64
    /// Bitset words (8 bytes each) one partition's search cache may hold before the search gives up as
    /// inconclusive: 512 MiB of bitsets, plus one model state per entry. It bounds memory, since every
    /// distinct (linearized set, state) configuration visited stays cached.
    public static let cacheWordsMax = 64 * 1024 * 1024
    /// Search iterations between two looks at the clock and at the cancellation flag.
    static let iterationsPerDeadlineCheck = 4096
    /// Search iterations a partition runs before it lets the next waiting partition have a turn.
    static let iterationsPerSlice = 1 << 17
    /// Worker threads the parallel checker uses at most (the CI machine has 2 cores).
    public static let workersMax = 8
    /// Operations kept on each side of the failing point when a report prints an anomaly window.
    public static let windowOperationsMax = 40
}

extension HistoryCheckerLimits {
    /// Anomalies of one kind a list-append or set check lists in full; the rest are only counted.
    public static let anomaliesPerKindMax = 50
}

extension HistoryCheckerLimits {
    /// Operations an HTML timeline draws at most (those nearest the failing window first).
    public static let timelineBarsMax = 5_000
}
