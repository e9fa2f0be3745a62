/// One event of the client history, in the shape of `silo-history/1` (JEPSEN-SPEC §6.5) with `time` in
/// simulated ticks and values as unique integers.
public struct SimHistoryEvent: Sendable, Hashable {
    public enum EventType: String, Sendable { case invoke, ok, fail, info }

    public var index: Int
    public var type: EventType
    public var process: Int
    /// "put", "cas" or "get".
    public var function: String
    public var key: Int
    /// put: the value; cas: [from, to]; get: the value read (ok only; 0 = absent).
    public var values: [UInt64]
    public var time: Int

    /// The event as one JSON line.
    public var jsonLine: String {
        var value: String
        switch function {
        case "cas": value = "{\"from\":\"\(values[0])\",\"to\":\"\(values[1])\"}"
        case "get": value = values.isEmpty || values[0] == 0 ? "null" : "\"\(values[0])\""
        default: value = "\"\(values[0])\""
        }
        return "{\"index\":\(index),\"kind\":\"op\",\"type\":\"\(type.rawValue)\",\"process\":\(process),"
            + "\"f\":\"\(function)\",\"key\":\"k\(key)\",\"value\":\(value),\"time\":\(time)}"
    }
}

/// The history of a run, in observation order.
public struct SimHistory: Sendable {
    public private(set) var events: [SimHistoryEvent] = []

    mutating func record(
        _ type: SimHistoryEvent.EventType, process: Int, function: String, key: Int, values: [UInt64], time: Int
    ) {
        events.append(SimHistoryEvent(index: events.count, type: type, process: process, function: function, key: key,
            values: values, time: time))
    }

    /// The history as `silo-history/1` JSON Lines (header first).
    public func jsonLines(seed: UInt64) -> [String] {
        ["{\"kind\":\"header\",\"format\":\"silo-history/1\",\"test\":\"silo-sim\",\"seed\":\(seed),\"clock\":\"ticks\"}"]
            + events.map(\.jsonLine)
    }
}
