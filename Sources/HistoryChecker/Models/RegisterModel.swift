/// A plain read/write/cas register (with string append, for Porcupine's kv data), partitioned by key.
///
/// The state is the register's value, nil for "never written" (or absent). Used for Porcupine's Jepsen etcd
/// histories (one register, no key), its kv histories (one register per key, `initialValue: ""`) and the
/// RaftKit simulator's KV workload.
public struct RegisterModel: Model {
    public typealias State = String?

    /// What the client asked for.
    public enum Command: Hashable, Sendable {
        case read
        case write(String)
        /// Compare-and-set: if the value is `from`, make it `to`.
        case cas(from: String, to: String)
        /// Append `suffix` to the value (an absent value counts as "").
        case append(String)
    }

    /// One operation's input: the key (nil for a single unnamed register) and the command.
    public struct Input: Hashable, Sendable {
        public var key: String?
        public var command: Command

        public init(key: String?, command: Command) {
            self.key = key
            self.command = command
        }
    }

    /// What the client observed.
    public enum Output: Hashable, Sendable {
        /// A read returned this value (nil: absent).
        case read(String?)
        /// A write or append was acknowledged.
        case written
        /// A cas returned: `true` it swapped, `false` the value was not `from` (a definite failure).
        case cas(succeeded: Bool)
        /// The outcome is unknown: the model accepts it whether or not it took effect. Give such an
        /// operation `Operation.returnTimeInfinity` as its return time.
        case unknown
    }

    /// The value before any write.
    public var initialValue: String?

    public init(initialValue: String? = nil) {
        self.initialValue = initialValue
    }

    public func partition(_ operations: [Operation<Input, Output>]) -> [[Operation<Input, Output>]] {
        partitionByKey(operations) { $0.input.key ?? "" }
    }

    public func initialState() -> State { initialValue }

    /// Operations with return time +∞ are the `.unknown` writes, which every state accepts.
    public var infiniteOperationsAlwaysLegal: Bool { true }

    public func step(_ state: State, _ input: Input, _ output: Output) -> State? {
        switch (input.command, output) {
        case (.read, .read(let value)): return value == state ? .some(state) : nil
        case (.read, .unknown): return .some(state)
        case (.read, _): return nil
        case (.write(let value), _): return .some(value)
        case (.append(let suffix), _): return .some((state ?? "") + suffix)
        case (.cas(let from, let to), .cas(succeeded: true)): return state == from ? .some(to) : nil
        case (.cas(let from, _), .cas(succeeded: false)): return state != from ? .some(state) : nil
        case (.cas(let from, let to), .unknown): return state == from ? .some(to) : .some(state)
        case (.cas, _): return nil
        }
    }

    public func describe(_ input: Input, _ output: Output) -> String {
        let prefix = input.key.map { "[\($0)] " } ?? ""
        switch (input.command, output) {
        case (.read, .read(let v)): return prefix + "read() -> \(v.map { "'\($0)'" } ?? "nil")"
        case (.read, _): return prefix + "read() -> ?"
        case (.write(let v), let o): return prefix + "write('\(v)')" + (o == .unknown ? " -> ?" : "")
        case (.append(let v), let o): return prefix + "append('\(v)')" + (o == .unknown ? " -> ?" : "")
        case (.cas(let from, let to), .cas(let ok)): return prefix + "cas('\(from)', '\(to)') -> \(ok ? "ok" : "fail")"
        case (.cas(let from, let to), _): return prefix + "cas('\(from)', '\(to)') -> ?"
        }
    }

    public func describe(state: State) -> String { state.map { "'\($0)'" } ?? "nil" }
}

/// Groups operations by a key, keys in sorted order, operations in their original order within a key.
func partitionByKey<Input, Output>(
    _ operations: [Operation<Input, Output>], key: (Operation<Input, Output>) -> String
) -> [[Operation<Input, Output>]] {
    var groups: [String: [Operation<Input, Output>]] = [:]
    for op in operations { groups[key(op), default: []].append(op) }
    return groups.keys.sorted().map { groups[$0]! }
}
