import RaftKit

/// A client operation of the KV workload.
public enum KVOperation: Sendable, Hashable {
    case put(key: Int, value: UInt64)
    case cas(key: Int, from: UInt64, to: UInt64)
    case get(key: Int)

    var key: Int {
        switch self {
        case .put(let key, _), .cas(let key, _, _), .get(let key): return key
        }
    }

    var name: String {
        switch self {
        case .put: return "put"
        case .cas: return "cas"
        case .get: return "get"
        }
    }
}

/// A command in the log: the client op id plus the operation (writes only; reads use ReadIndex).
struct KVCommand {
    var opID: UInt64
    var operation: KVOperation

    func encode() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(33)
        appendLE(&bytes, opID)
        switch operation {
        case .put(let key, let value):
            bytes.append(0); bytes.append(UInt8(key)); appendLE(&bytes, value)
        case .cas(let key, let from, let to):
            bytes.append(1); bytes.append(UInt8(key)); appendLE(&bytes, from); appendLE(&bytes, to)
        case .get(let key):
            bytes.append(2); bytes.append(UInt8(key))
        }
        return bytes
    }

    init(opID: UInt64, operation: KVOperation) {
        self.opID = opID
        self.operation = operation
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 10 else { return nil }
        opID = readLE(bytes, 0)
        let key = Int(bytes[9])
        switch bytes[8] {
        case 0 where bytes.count == 18: operation = .put(key: key, value: readLE(bytes, 10))
        case 1 where bytes.count == 26: operation = .cas(key: key, from: readLE(bytes, 10), to: readLE(bytes, 18))
        case 2 where bytes.count == 10: operation = .get(key: key)
        default: return nil
        }
    }
}

func appendLE(_ bytes: inout [UInt8], _ value: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
}

func readLE(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<8 { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
    return value
}

/// The replicated state machine of the simulation: registers indexed by key, 0 meaning "absent".
struct KVStore: Equatable {
    var values: [UInt64]

    init(keys: Int) { values = Array(repeating: 0, count: keys) }

    /// Applies a write; returns whether it took effect (a cas whose `from` does not match does not).
    mutating func apply(_ operation: KVOperation) -> (ok: Bool, value: UInt64) {
        switch operation {
        case .put(let key, let value):
            values[key] = value
            return (true, value)
        case .cas(let key, let from, let to):
            guard values[key] == from else { return (false, values[key]) }
            values[key] = to
            return (true, to)
        case .get(let key):
            return (true, values[key])
        }
    }

    func encode() -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values { appendLE(&bytes, value) }
        return bytes
    }

    init(decoding bytes: [UInt8], keys: Int) {
        self.init(keys: keys)
        guard bytes.count == keys * 8 else { return }
        for key in 0..<keys { values[key] = readLE(bytes, key * 8) }
    }
}
