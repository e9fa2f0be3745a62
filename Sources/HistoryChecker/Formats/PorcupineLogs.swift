/// Readers for the reference histories of Porcupine's test suite (JEPSEN-SPEC "Checker self-tests"), so
/// that the checker can be held to Porcupine's verdicts.
///
/// Times are positions: each recognised line is one tick, as Porcupine's `CheckEvents` uses the event index
/// as the time.
public enum PorcupineLog {
    public typealias RegisterOperation = Operation<RegisterModel.Input, RegisterModel.Output>

    /// Parses a Jepsen etcd log (`INFO  jepsen.util - P\t:type\t:f\tvalue`) as `parseJepsenLog` does:
    /// `:fail :read :timed-out` is a read with an unknown result (dropped here: it has no side effect);
    /// `:fail :cas` is a definite cas failure; `:info` lines are not recognised, so their invocations stay
    /// open; an invocation without a completion has an unknown outcome at the end (return time +∞).
    /// Other lines are ignored. Check the result with `RegisterModel()` (initial value nil).
    public static func parseEtcd(text: String) -> [RegisterOperation] {
        var builder = Builder()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard tokens.count >= 7, tokens[0] == "INFO", tokens[1] == "jepsen.util", tokens[2] == "-",
                let process = Int(tokens[3]), tokens[3].allSatisfy(\.isNumber)
            else { continue }
            let type = tokens[4]
            let f = tokens[5]
            let rest = tokens[6...].map(String.init)
            switch (type, f) {
            case (":invoke", ":read") where rest == ["nil"]:
                builder.invoke(process: process, input: .init(key: nil, command: .read))
            case (":invoke", ":write") where rest.count == 1 && isNumber(rest[0]):
                builder.invoke(process: process, input: .init(key: nil, command: .write(rest[0])))
            case (":invoke", ":cas"):
                guard let (from, to) = casArguments(rest) else { continue }
                builder.invoke(process: process, input: .init(key: nil, command: .cas(from: from, to: to)))
            case (":ok", ":read") where rest.count == 1 && (rest[0] == "nil" || isNumber(rest[0])):
                builder.complete(process: process, output: .read(rest[0] == "nil" ? nil : rest[0]))
            case (":ok", ":write") where rest.count == 1 && isNumber(rest[0]):
                builder.complete(process: process, output: .written)
            case (":ok", ":cas"), (":fail", ":cas"):
                guard casArguments(rest) != nil else { continue }
                builder.complete(process: process, output: .cas(succeeded: type == ":ok"))
            case (":fail", ":read") where rest == [":timed-out"]:
                builder.drop(process: process)
            default:
                continue
            }
        }
        return builder.finish()
    }

    /// Parses a kv log (`{:process P, :type :invoke, :f :get, :key "k", :value nil}`) as `parseKvLog` does:
    /// get, put and append per key; only `:invoke` and `:ok` lines count. Check the result with
    /// `RegisterModel(initialValue: "")`, which partitions by key.
    public static func parseKV(text: String) -> [RegisterOperation] {
        var builder = Builder()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let fields = ednMap(String(line)), let processText = fields["process"],
                let process = Int(processText), let type = fields["type"], let f = fields["f"],
                let key = fields["key"]
            else { continue }
            let value = fields["value"]
            switch (type, f) {
            case (":invoke", ":get"):
                builder.invoke(process: process, input: .init(key: key, command: .read))
            case (":invoke", ":put"):
                guard let value else { continue }
                builder.invoke(process: process, input: .init(key: key, command: .write(value)))
            case (":invoke", ":append"):
                guard let value else { continue }
                builder.invoke(process: process, input: .init(key: key, command: .append(value)))
            case (":ok", ":get"):
                guard let value else { continue }
                builder.complete(process: process, output: .read(value))
            case (":ok", ":put"), (":ok", ":append"):
                builder.complete(process: process, output: .written)
            default:
                continue
            }
        }
        return builder.finish()
    }

    private static func isNumber(_ s: String) -> Bool { !s.isEmpty && s.allSatisfy(\.isNumber) }

    /// `[A B]` split into the tokens `[A` and `B]`.
    private static func casArguments(_ rest: [String]) -> (String, String)? {
        guard rest.count == 2, rest[0].hasPrefix("["), rest[1].hasSuffix("]") else { return nil }
        let from = String(rest[0].dropFirst())
        let to = String(rest[1].dropLast())
        guard isNumber(from), isNumber(to) else { return nil }
        return (from, to)
    }

    /// The fields of a one-line EDN map whose values are keywords, integers, `nil` or strings. String values
    /// come back without quotes; `nil` comes back as a missing field.
    static func ednMap(_ line: String) -> [String: String]? {
        let chars = Array(line.trimmingWhitespace())
        guard chars.first == "{", chars.last == "}" else { return nil }
        var fields: [String: String] = [:]
        var i = 1
        let end = chars.count - 1
        while i < end {
            while i < end && (chars[i] == " " || chars[i] == ",") { i += 1 }
            guard i < end, chars[i] == ":" else { break }
            var nameEnd = i + 1
            while nameEnd < end && chars[nameEnd] != " " { nameEnd += 1 }
            let name = String(chars[(i + 1)..<nameEnd])
            i = nameEnd
            while i < end && chars[i] == " " { i += 1 }
            if i < end && chars[i] == "\"" {
                var value = ""
                i += 1
                while i < end && chars[i] != "\"" {
                    if chars[i] == "\\" && i + 1 < end { i += 1 }
                    value.append(chars[i])
                    i += 1
                }
                i += 1
                fields[name] = value
            } else {
                var valueEnd = i
                while valueEnd < end && chars[valueEnd] != "," { valueEnd += 1 }
                let value = String(chars[i..<valueEnd])
                if value != "nil" { fields[name] = value }
                i = valueEnd
            }
        }
        return fields
    }

    /// Pairs invocations with completions per process, Porcupine's `procIdMap`.
    private struct Builder {
        private var operations: [RegisterOperation?] = []
        private var open: [Int: Int] = [:]  // process -> index into operations
        private var time: Int64 = 0

        mutating func invoke(process: Int, input: RegisterModel.Input) {
            if let previous = open[process] { leaveUnknown(previous) }
            open[process] = operations.count
            operations.append(
                Operation(
                    clientID: process, input: input, output: .unknown, callTime: time,
                    returnTime: RegisterOperation.returnTimeInfinity, sourceIndex: Int(time)))
            time += 1
        }

        mutating func complete(process: Int, output: RegisterModel.Output) {
            guard let index = open.removeValue(forKey: process), var op = operations[index] else { return }
            op.output = output
            op.returnTime = time
            operations[index] = op
            time += 1
        }

        /// A read whose result is unknown has no side effect: drop it.
        mutating func drop(process: Int) {
            guard let index = open.removeValue(forKey: process) else { return }
            operations[index] = nil
            time += 1
        }

        /// An operation still open at the end, or replaced by a new invoke of its process, has an unknown
        /// outcome; an unknown read is dropped.
        private mutating func leaveUnknown(_ index: Int) {
            if case .read = operations[index]?.input.command { operations[index] = nil }
        }

        mutating func finish() -> [RegisterOperation] {
            for index in open.values { leaveUnknown(index) }
            open = [:]
            return operations.compactMap { $0 }
        }
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = self[...]
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }
}
