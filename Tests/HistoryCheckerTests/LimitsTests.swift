import Testing

@testable import HistoryChecker

/// Goal: the limits keep the relations the code relies on. Method: assert each relation.
@Test func limitsAreConsistent() {
    // The search looks at its slice budget only at deadline checks, so a slice is a whole number of them.
    #expect(HistoryCheckerLimits.iterationsPerSlice % HistoryCheckerLimits.iterationsPerDeadlineCheck == 0)
    // The reader's chunk must be far smaller than the longest line it accepts.
    #expect(HistoryCheckerLimits.readChunkBytes < HistoryCheckerLimits.lineBytesMax)
    #expect(HistoryCheckerLimits.workersMax >= 1)
    #expect(HistoryCheckerLimits.cacheWordsMax >= 1 << 20)
    #expect(HistoryCheckerLimits.windowOperationsMax > 0)
    #expect(HistoryCheckerLimits.timelineBarsMax > HistoryCheckerLimits.windowOperationsMax)
    #expect(HistoryCheckerLimits.anomaliesPerKindMax > 0)
}
