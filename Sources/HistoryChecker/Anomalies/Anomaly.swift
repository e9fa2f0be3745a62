/// The named anomalies the list-append (W2) and set (W3) checkers report (JEPSEN-SPEC §6.3).
public enum AnomalyName: String, Sendable, Hashable, CaseIterable {
    /// W2: a read is not a prefix of the longest read of its key (split brain).
    case incompatibleOrder = "incompatible-order"
    /// W2, W3: a read shows the same element twice.
    case duplicateElement = "duplicate-element"
    /// W2, W3: a read shows an element no operation ever appended or added.
    case garbageElement = "garbage-element"
    /// W2, W3: a read shows the element of an append or add that definitely failed.
    case abortedRead = "aborted-read"
    /// W2: a read is shorter than a read that completed before it was invoked.
    /// W3: a read misses an element whose add was acknowledged before the read was invoked.
    case staleRead = "stale-read"
    /// W2: a read misses an element whose append was acknowledged before the read was invoked.
    case lostAppend = "lost-append"
    /// W3: an element a completed read had shown is missing from a later read, and never seen again.
    case lostElement = "lost-element"
    /// W3: an element a completed read had shown is missing from a later read, then seen again.
    case flicker = "flicker"
}

/// One anomaly: its name, where, a sentence saying what was seen, and the events involved.
public struct Anomaly: Sendable, Hashable {
    public var name: AnomalyName
    /// The key (W2) or set (W3).
    public var key: String
    /// What was observed, in words.
    public var message: String
    /// The `index` of the invoke events of the operations involved, smallest first.
    public var eventIndices: [Int]

    public init(name: AnomalyName, key: String, message: String, eventIndices: [Int]) {
        self.name = name
        self.key = key
        self.message = message
        self.eventIndices = eventIndices.sorted()
    }
}

/// What a list-append or set check found.
public struct AnomalyReport: Sendable {
    /// Listed anomalies, in key order then in the order found; at most
    /// `HistoryCheckerLimits.anomaliesPerKindMax` per name.
    public var anomalies: [Anomaly]
    /// How many anomalies of each name there were in all (including those not listed).
    public var counts: [AnomalyName: Int]
    /// Operations checked.
    public var operationCount: Int
    public var elapsed: Duration

    /// True when no anomaly was found.
    public var isValid: Bool { counts.values.allSatisfy { $0 == 0 } }
}

/// Collects anomalies with the per-name cap.
struct AnomalyCollector {
    private(set) var anomalies: [Anomaly] = []
    private(set) var counts: [AnomalyName: Int] = [:]

    mutating func add(_ name: AnomalyName, key: String, _ message: @autoclosure () -> String, events: [Int]) {
        counts[name, default: 0] += 1
        if counts[name]! <= HistoryCheckerLimits.anomaliesPerKindMax {
            anomalies.append(Anomaly(name: name, key: key, message: message(), eventIndices: events))
        }
    }
}
