/// Why a history could not be read, written or turned into operations.
public enum HistoryError: Error, Sendable, Equatable {
    /// A line is not valid JSON. The message says where.
    case malformedJSON(String)
    /// Line `line` (1-based) is JSON but not a valid `silo-history/1` line; `reason` says why.
    case malformedLine(line: Int, reason: String)
    /// The first line is not a `silo-history/1` header.
    case missingHeader
    /// The file declares a format this reader does not know.
    case unsupportedFormat(String)
    /// A line is longer than `HistoryCheckerLimits.lineBytesMax`.
    case lineTooLong(line: Int)
    /// Event indices must strictly increase; `index` came after `previous`.
    case indexNotIncreasing(index: Int, previous: Int)
    /// A process completed an operation it never invoked, or invoked twice without completing.
    case unmatchedEvent(index: Int, reason: String)
    /// An operation's `f` or `value` does not fit the model it is checked against.
    case unsupportedOperation(index: Int, reason: String)
    /// The operating system refused a file operation.
    case io(path: String, reason: String)
}

/// The `type` of an event: an invocation, or one of the three completions (JEPSEN-SPEC §6.5).
public enum EventType: String, Sendable, Hashable, CaseIterable {
    /// The request is about to be sent.
    case invoke
    /// The response proves the operation took effect (or, for a read, what it read).
    case ok
    /// The response proves the operation had no effect.
    case fail
    /// The outcome is unknown (timeout, 5xx, reset, gateway death): it may or may not have taken effect.
    case info
}

/// The `kind` of a history line after the header.
public enum EventKind: String, Sendable, Hashable, CaseIterable {
    /// A client operation (`process` is a client id).
    case op
    /// A fault starting or stopping (`process` is absent; `f` is e.g. `start-partition`).
    case nemesis
    /// A Raft event for the invariant checker (simulator, debug mode).
    case raft
}

/// One line of a `silo-history/1` file after the header.
///
/// The named fields are those JEPSEN-SPEC §6.5 lists; any other field of the line is kept in `extra`, so a
/// read-then-write round trip keeps it.
public struct HistoryEvent: Sendable, Hashable {
    /// Position in the history; strictly increasing along the file.
    public var index: Int
    public var kind: EventKind
    public var type: EventType
    /// The client process for `kind == .op`; nil for nemesis lines.
    public var process: Int?
    /// The function: `get`, `put`, `create`, `cas`, `delete`, `read`, `write`, `append`, `add`,
    /// `start-partition`, ...
    public var f: String
    /// The object key, when the operation has one.
    public var key: String?
    /// The operation's value; nil when the line has no `value` field, `.null` when it is JSON null (for
    /// example a read that found nothing).
    public var value: JSONValue?
    /// Nanoseconds of the harness's monotonic clock (simulator: ticks).
    public var time: Int64
    public var gateway: String?
    public var http: Int?
    public var etag: String?
    public var requestID: String?
    public var error: String?
    /// Every other field of the line.
    public var extra: [String: JSONValue]

    /// Makes an event; `index` is usually assigned by `HistoryWriter`.
    public init(
        index: Int = 0, kind: EventKind = .op, type: EventType, process: Int?, f: String, key: String? = nil,
        value: JSONValue? = nil, time: Int64, gateway: String? = nil, http: Int? = nil, etag: String? = nil,
        requestID: String? = nil, error: String? = nil, extra: [String: JSONValue] = [:]
    ) {
        self.index = index
        self.kind = kind
        self.type = type
        self.process = process
        self.f = f
        self.key = key
        self.value = value
        self.time = time
        self.gateway = gateway
        self.http = http
        self.etag = etag
        self.requestID = requestID
        self.error = error
        self.extra = extra
    }
}

/// Line 1 of a `silo-history/1` file: what ran, with which seed, on which nodes and with what settings.
public struct HistoryHeader: Sendable, Hashable {
    /// The only format this module reads and writes.
    public static let currentFormat = "silo-history/1"

    public var format: String
    /// The scenario name, e.g. `register+kill`.
    public var test: String
    public var seed: UInt64
    /// The commit the run was built from.
    public var git: String
    /// Wall-clock start, ISO 8601 (informative only; checkers use `time`).
    public var startedWall: String
    /// What `time` counts: `monotonic-ns` for real clusters, `ticks` in the simulator.
    public var clock: String
    /// Node names by role, e.g. `{"meta":["m1","m2","m3"]}`.
    public var nodes: JSONValue
    /// The workload and nemesis settings.
    public var config: JSONValue
    /// Every other header field.
    public var extra: [String: JSONValue]

    public init(
        test: String, seed: UInt64, git: String = "", startedWall: String = "", clock: String = "monotonic-ns",
        nodes: JSONValue = .object([:]), config: JSONValue = .object([:]), extra: [String: JSONValue] = [:]
    ) {
        self.format = HistoryHeader.currentFormat
        self.test = test
        self.seed = seed
        self.git = git
        self.startedWall = startedWall
        self.clock = clock
        self.nodes = nodes
        self.config = config
        self.extra = extra
    }
}

/// A whole history in memory: the header and every event in file order.
public struct History: Sendable, Hashable {
    public var header: HistoryHeader
    public var events: [HistoryEvent]

    public init(header: HistoryHeader, events: [HistoryEvent]) {
        self.header = header
        self.events = events
    }
}
