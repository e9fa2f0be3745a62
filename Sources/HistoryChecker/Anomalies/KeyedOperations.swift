/// The operations of a collection history (list-append or set), grouped by key: the writes (`append` or
/// `add`, with their element) and the successful reads (with the elements they saw). Shared by
/// `ListAppendChecker` and `SetChecker`, which differ only in the checks they run over a key.
struct KeyedOperations {
    var writes: [String: [AppendOp]] = [:]
    var reads: [String: [ReadOp]] = [:]
    var operationCount = 0

    /// Every key with at least one operation, in sorted order (never dictionary order).
    var keys: [String] { Set(writes.keys).union(reads.keys).sorted() }

    /// Groups `events` by key; `writeFunction` names the write (`append` or `add`). Failed and
    /// indeterminate reads are dropped; other functions are ignored.
    static func collect(_ events: [HistoryEvent], writeFunction: String) throws(HistoryError) -> KeyedOperations {
        var result = KeyedOperations()
        for pair in try HistoryPairing.pairs(events) {
            let key = pair.invoke.key ?? ""
            switch pair.invoke.f {
            case writeFunction:
                guard let element = HistoryPairing.valueID(pair.invoke.value) else {
                    throw .unsupportedOperation(index: pair.invoke.index, reason: "\(writeFunction) needs a value")
                }
                result.writes[key, default: []].append(AppendOp(element: element, pair: pair))
                result.operationCount += 1
            case "read":
                guard pair.isOK, let completion = pair.completion else { continue }
                guard let list = completion.value?.arrayValue else {
                    throw .unsupportedOperation(index: completion.index, reason: "a read's value must be a JSON array")
                }
                result.reads[key, default: []].append(
                    ReadOp(
                        elements: list.map { HistoryPairing.valueID($0) ?? "null" }, invokeTime: pair.invoke.time,
                        completeTime: completion.time, index: pair.invoke.index))
                result.operationCount += 1
            default:
                continue
            }
        }
        return result
    }
}
