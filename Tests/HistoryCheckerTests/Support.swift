import HistoryChecker

/// Builds `silo-history/1` events for synthetic tests, numbering them in order.
struct EventLog {
    var events: [HistoryEvent] = []

    mutating func add(
        _ process: Int, _ type: EventType, _ f: String, key: String = "k", _ value: JSONValue? = nil, at time: Int64,
        http: Int? = nil
    ) {
        events.append(
            HistoryEvent(
                index: events.count, type: type, process: process, f: f, key: key, value: value, time: time, http: http))
    }

    mutating func nemesis(_ f: String, at time: Int64) {
        events.append(HistoryEvent(index: events.count, kind: .nemesis, type: .info, process: nil, f: f, time: time))
    }

    /// An invoke and its completion.
    mutating func op(
        _ process: Int, _ f: String, key: String = "k", _ value: JSONValue? = nil, _ type: EventType = .ok,
        result: JSONValue? = nil, from call: Int64, to ret: Int64, http: Int? = nil
    ) {
        add(process, .invoke, f, key: key, value, at: call)
        add(process, type, f, key: key, result ?? value, at: ret, http: http)
    }

    /// An invoke without a value (a read) and its completion.
    mutating func op(
        _ process: Int, _ f: String, key: String = "k", _ type: EventType, result: JSONValue? = nil,
        from call: Int64, to ret: Int64, http: Int? = nil
    ) {
        add(process, .invoke, f, key: key, nil, at: call)
        add(process, type, f, key: key, result, at: ret, http: http)
    }
}

/// A small seeded generator (SplitMix64), so synthetic histories are reproducible.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func isIllegal<I, O>(_ result: LinearizabilityResult<I, O>) -> Bool {
    if case .illegal = result { return true }
    return false
}

func isInconclusive<I, O>(_ result: LinearizabilityResult<I, O>) -> Bool {
    if case .inconclusive = result { return true }
    return false
}

/// Runs a real sequential key-value register under random concurrency and records the history: each
/// process invokes an operation, the operation takes effect on the real store at a later step (its
/// linearization point), and returns at a later step still. Some writes end as `info` (the process is
/// retired, as Jepsen does), and some of those never take effect. The history is linearizable by
/// construction.
struct RegisterHistoryGenerator {
    var keys: Int
    var processes: Int
    var operations: Int
    var infoPercent = 2

    private enum Phase {
        case idle
        case invoked(f: String, key: String, value: JSONValue?, applied: JSONValue??)
    }

    func generate(seed: UInt64) -> [HistoryEvent] {
        var random = SeededRandom(seed: seed)
        var store: [String: String] = [:]
        var log = EventLog()
        var phases = Array(repeating: Phase.idle, count: processes)
        var processIDs = Array(0..<processes)
        var started = 0
        var time: Int64 = 0
        var sequence = 0
        while started < operations || phases.contains(where: { if case .invoked = $0 { true } else { false } }) {
            time += 1
            let slot = Int.random(in: 0..<processes, using: &random)
            let process = processIDs[slot]
            switch phases[slot] {
            case .idle:
                guard started < operations else { continue }
                started += 1
                sequence += 1
                let key = "r/\(Int.random(in: 0..<keys, using: &random))"
                let roll = Int.random(in: 0..<100, using: &random)
                let f: String
                var value: JSONValue? = nil
                if roll < 45 {
                    f = "read"
                } else if roll < 80 {
                    f = "write"
                    value = .string("\(process)/\(sequence)")
                } else {
                    f = "cas"
                    let from = store[key] ?? "none"
                    let target = Bool.random(using: &random) ? from : "\(process)/\(sequence - 1)"
                    value = .object(["from": .string(target), "to": .string("\(process)/\(sequence)")])
                }
                log.add(process, .invoke, f, key: key, value, at: time)
                phases[slot] = .invoked(f: f, key: key, value: value, applied: nil)
            case .invoked(let f, let key, let value, let applied):
                if applied == nil {
                    if f != "read" && Int.random(in: 0..<100, using: &random) < infoPercent {
                        // Timed out before it reached the store: it never takes effect.
                        log.add(process, .info, f, key: key, value, at: time)
                        processIDs[slot] += processes
                        phases[slot] = .idle
                        continue
                    }
                    // The linearization point: apply to the real store now.
                    var result: JSONValue? = value
                    switch f {
                    case "read": result = store[key].map { .string($0) } ?? .null
                    case "write": store[key] = value!.stringValue!
                    default:
                        let from = value!["from"]!.stringValue!
                        if store[key] == from {
                            store[key] = value!["to"]!.stringValue!
                            result = .bool(true)
                        } else {
                            result = .bool(false)
                        }
                    }
                    if f != "read" && Int.random(in: 0..<100, using: &random) < infoPercent {
                        // Applied, but the client never hears back.
                        log.add(process, .info, f, key: key, value, at: time)
                        processIDs[slot] += processes
                        phases[slot] = .idle
                        continue
                    }
                    phases[slot] = .invoked(f: f, key: key, value: value, applied: .some(result))
                } else {
                    let result = applied!!
                    switch f {
                    case "read": log.add(process, .ok, f, key: key, result, at: time)
                    case "write": log.add(process, .ok, f, key: key, value, at: time)
                    default: log.add(process, result == .bool(true) ? .ok : .fail, f, key: key, value, at: time)
                    }
                    phases[slot] = .idle
                }
            }
        }
        return log.events
    }
}
