/// The W1 register over the S3 API (JEPSEN-SPEC §6.3): one object per key, with conditional writes.
///
/// The state is the id of the object's current value, nil when absent. Values are unique per write, so a
/// value id stands for the body (and its ETag): `If-Match: "<etag of u>"` is `cas(from: u, ...)`.
public struct S3RegisterModel: Model {
    public typealias State = String?

    /// The S3 request.
    public enum Command: Hashable, Sendable {
        /// `GET`.
        case get
        /// Unconditional `PUT`.
        case put(String)
        /// `PUT If-None-Match: *`.
        case create(String)
        /// `PUT If-Match: "<etag of from>"` with body `to`.
        case cas(from: String, to: String)
        /// `DELETE` (always 204).
        case delete
        /// `DELETE If-Match: "<etag of from>"`.
        case deleteIfMatch(String)
    }

    /// One operation's input.
    public struct Input: Hashable, Sendable {
        public var key: String
        public var command: Command

        public init(key: String, command: Command) {
            self.key = key
            self.command = command
        }
    }

    /// The response, as the history recorded it.
    public enum Output: Hashable, Sendable {
        /// `GET` 200 with this value id, or 404 (nil: absent).
        case value(String?)
        /// A write or delete succeeded (200 / 204).
        case ok
        /// 412 Precondition Failed: the condition did not hold at the linearization point.
        case preconditionFailed
        /// 409 ConditionalRequestConflict: a definite no-op by Silo's contract, legal in any state.
        case conflict
        /// Timeout, 5xx, reset, gateway death: it may or may not have taken effect (return time +∞).
        case unknown
    }

    public init() {}

    public func partition(_ operations: [Operation<Input, Output>]) -> [[Operation<Input, Output>]] {
        partitionByKey(operations) { $0.input.key }
    }

    public func initialState() -> State { nil }

    /// Operations with return time +∞ are the `.unknown` writes, which every state accepts.
    public var infiniteOperationsAlwaysLegal: Bool { true }

    public func step(_ state: State, _ input: Input, _ output: Output) -> State? {
        switch input.command {
        case .get:
            switch output {
            case .value(let v): return v == state ? .some(state) : nil
            case .unknown: return .some(state)
            default: return nil
            }
        case .put(let v):
            switch output {
            case .ok, .unknown: return .some(v)
            case .conflict: return .some(state)
            default: return nil
            }
        case .create(let v):
            switch output {
            case .ok: return state == nil ? .some(v) : nil
            case .preconditionFailed: return state != nil ? .some(state) : nil
            case .conflict: return .some(state)
            case .unknown: return state == nil ? .some(v) : .some(state)
            case .value: return nil
            }
        case .cas(let from, let to):
            return conditional(state, matches: state == from, then: to, output: output)
        case .delete:
            switch output {
            case .ok, .unknown: return .some(nil)
            case .conflict: return .some(state)
            default: return nil
            }
        case .deleteIfMatch(let from):
            return conditional(state, matches: state == from, then: nil, output: output)
        }
    }

    /// The rule shared by the If-Match requests.
    private func conditional(_ state: State, matches: Bool, then next: State, output: Output) -> State? {
        switch output {
        case .ok: return matches ? .some(next) : nil
        case .preconditionFailed: return matches ? nil : .some(state)
        case .conflict: return .some(state)
        case .unknown: return matches ? .some(next) : .some(state)
        case .value: return nil
        }
    }

    public func describe(_ input: Input, _ output: Output) -> String {
        let request: String
        switch input.command {
        case .get: request = "get"
        case .put(let v): request = "put(\(v))"
        case .create(let v): request = "create(\(v))"
        case .cas(let from, let to): request = "cas(\(from) -> \(to))"
        case .delete: request = "delete"
        case .deleteIfMatch(let from): request = "delete-if-match(\(from))"
        }
        let response: String
        switch output {
        case .value(let v): response = v ?? "absent"
        case .ok: response = "ok"
        case .preconditionFailed: response = "412"
        case .conflict: response = "409"
        case .unknown: response = "?"
        }
        return "[\(input.key)] \(request) -> \(response)"
    }

    public func describe(state: State) -> String { state ?? "absent" }
}
