import HistoryChecker
import Testing

@Suite("Generated register histories")
struct GeneratedHistoryTests {
    /// Goal: a valid 100,000-operation, 50-key, 10-process register history is checked in seconds.
    /// Method: run a real store under random concurrency (`RegisterHistoryGenerator`), write the history with
    /// `HistoryWriter`, read it back with `HistoryReader`, convert and check it; print the times.
    @Test func largeValidHistoryChecksQuickly() throws {
        let clock = ContinuousClock()
        let generator = RegisterHistoryGenerator(keys: 50, processes: 10, operations: 100_000)
        var events: [HistoryEvent] = []
        let generation = clock.measure { events = generator.generate(seed: 42) }
        let writer = HistoryWriter(header: HistoryHeader(test: "register-100k", seed: 42, clock: "ticks"))
        for event in events { try writer.append(event) }
        var history: History? = nil
        let reading = try clock.measure { history = try HistoryReader.parse(text: writer.text) }
        let readEvents = try #require(history).events
        #expect(readEvents == events)
        let operations = try RegisterModel.operations(from: readEvents)
        #expect(operations.count > 95_000)
        let report = LinearizabilityChecker(model: RegisterModel(), timeout: .seconds(120)).check(operations)
        #expect(report.result.isOK, "got \(report.result)")
        #expect(report.partitionSizes.count == 50)
        print(
            "100k-op history: generated in \(generation), written+read in \(reading), "
                + "\(report.operationCount) ops checked in \(report.elapsed)")
    }

    /// Goal (property): histories from a real sequential store with random concurrency are always
    /// linearizable, and changing one read's value to one nobody wrote is always caught. Method: 30 seeds,
    /// small histories (3 keys, 6 processes, 300 operations, some info writes).
    @Test(arguments: 0..<30)
    func generatedHistoriesAreValidAndMutationsAreCaught(seed: UInt64) throws {
        let generator = RegisterHistoryGenerator(keys: 3, processes: 6, operations: 300, infoPercent: 5)
        var events = generator.generate(seed: seed)
        let valid = checkLinearizability(
            model: RegisterModel(), operations: try RegisterModel.operations(from: events), timeout: .seconds(30))
        #expect(valid.isOK, "seed \(seed): \(valid)")

        var random = SeededRandom(seed: seed &+ 1000)
        let reads = events.indices.filter { events[$0].type == .ok && events[$0].f == "read" }
        let victim = try #require(reads.randomElement(using: &random))
        events[victim].value = .string("mutated")
        let mutated = checkLinearizability(
            model: RegisterModel(), operations: try RegisterModel.operations(from: events), timeout: .seconds(30))
        guard case .illegal(let counterexample) = mutated else {
            Issue.record("seed \(seed): the mutated read at event \(victim) was not caught: \(mutated)")
            return
        }
        #expect(counterexample.operations.contains { $0.output == .read("mutated") })
    }
}
