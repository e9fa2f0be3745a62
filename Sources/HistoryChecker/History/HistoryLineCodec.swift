/// Turns history lines into values and back. Field order on output follows JEPSEN-SPEC §6.5 (index, kind,
/// type, process, f, key, value, time, gw, http, etag, req_id, error), then extra fields sorted by name.
enum HistoryLineCodec {
    static let eventFields: Set<String> = [
        "index", "kind", "type", "process", "f", "key", "value", "time", "gw", "http", "etag", "req_id", "error",
    ]
    static let headerFields: Set<String> = [
        "kind", "format", "test", "seed", "git", "started_wall", "clock", "nodes", "config",
    ]

    // MARK: Encoding

    static func encode(_ header: HistoryHeader) -> String {
        var out = "{\"kind\":\"header\",\"format\":"
        JSONValue.writeString(header.format, into: &out)
        out += ",\"test\":"
        JSONValue.writeString(header.test, into: &out)
        out += ",\"seed\":\(header.seed),\"git\":"
        JSONValue.writeString(header.git, into: &out)
        out += ",\"started_wall\":"
        JSONValue.writeString(header.startedWall, into: &out)
        out += ",\"clock\":"
        JSONValue.writeString(header.clock, into: &out)
        out += ",\"nodes\":"
        JSONValue.write(header.nodes, into: &out)
        out += ",\"config\":"
        JSONValue.write(header.config, into: &out)
        appendExtra(header.extra, into: &out)
        out += "}"
        return out
    }

    static func encode(_ event: HistoryEvent) -> String {
        var out = "{\"index\":\(event.index),\"kind\":\"\(event.kind.rawValue)\",\"type\":\"\(event.type.rawValue)\""
        if let process = event.process { out += ",\"process\":\(process)" }
        out += ",\"f\":"
        JSONValue.writeString(event.f, into: &out)
        if let key = event.key {
            out += ",\"key\":"
            JSONValue.writeString(key, into: &out)
        }
        if let value = event.value {
            out += ",\"value\":"
            JSONValue.write(value, into: &out)
        }
        out += ",\"time\":\(event.time)"
        if let gateway = event.gateway {
            out += ",\"gw\":"
            JSONValue.writeString(gateway, into: &out)
        }
        if let http = event.http { out += ",\"http\":\(http)" }
        if let etag = event.etag {
            out += ",\"etag\":"
            JSONValue.writeString(etag, into: &out)
        }
        if let requestID = event.requestID {
            out += ",\"req_id\":"
            JSONValue.writeString(requestID, into: &out)
        }
        if let error = event.error {
            out += ",\"error\":"
            JSONValue.writeString(error, into: &out)
        }
        appendExtra(event.extra, into: &out)
        out += "}"
        return out
    }

    private static func appendExtra(_ extra: [String: JSONValue], into out: inout String) {
        for key in extra.keys.sorted() {
            out += ","
            JSONValue.writeString(key, into: &out)
            out += ":"
            JSONValue.write(extra[key]!, into: &out)
        }
    }

    // MARK: Decoding

    static func decodeHeader(_ bytes: [UInt8]) throws(HistoryError) -> HistoryHeader {
        guard case .object(let o) = try JSONParser.parse(bytes), o["kind"] == .string("header") else {
            throw .missingHeader
        }
        guard let format = o["format"]?.stringValue else { throw .missingHeader }
        guard format == HistoryHeader.currentFormat else { throw .unsupportedFormat(format) }
        var header = HistoryHeader(
            test: o["test"]?.stringValue ?? "",
            seed: try seed(o["seed"]),
            git: o["git"]?.stringValue ?? "",
            startedWall: o["started_wall"]?.stringValue ?? "",
            clock: o["clock"]?.stringValue ?? "monotonic-ns",
            nodes: o["nodes"] ?? .object([:]),
            config: o["config"] ?? .object([:])
        )
        header.extra = o.filter { !headerFields.contains($0.key) }
        return header
    }

    private static func seed(_ value: JSONValue?) throws(HistoryError) -> UInt64 {
        switch value {
        case nil: return 0
        case .int(let i) where i >= 0: return UInt64(i)
        case .double(let d) where d >= 0 && d < 18_446_744_073_709_551_616.0: return UInt64(d)
        case .string(let s): if let v = UInt64(s) { return v }
        default: break
        }
        throw .malformedLine(line: 1, reason: "seed is not a non-negative integer")
    }

    static func decodeEvent(_ bytes: [UInt8], line: Int) throws(HistoryError) -> HistoryEvent {
        let parsed: JSONValue
        do { parsed = try JSONParser.parse(bytes) } catch {
            if case .malformedJSON(let m) = error { throw .malformedLine(line: line, reason: m) }
            throw error
        }
        guard case .object(let o) = parsed else { throw .malformedLine(line: line, reason: "not a JSON object") }
        func bad(_ reason: String) -> HistoryError { .malformedLine(line: line, reason: reason) }
        guard let index = o["index"]?.intValue else { throw bad("missing integer 'index'") }
        guard let kindText = o["kind"]?.stringValue, let kind = EventKind(rawValue: kindText) else {
            throw bad("missing or unknown 'kind'")
        }
        guard let typeText = o["type"]?.stringValue, let type = EventType(rawValue: typeText) else {
            throw bad("missing or unknown 'type'")
        }
        guard let f = o["f"]?.stringValue else { throw bad("missing string 'f'") }
        guard let time = o["time"]?.intValue else { throw bad("missing integer 'time'") }
        var process: Int? = nil
        if let p = o["process"], p != .null {
            guard let pi = p.intValue else { throw bad("'process' is not an integer") }
            process = Int(pi)
        }
        if kind == .op && process == nil { throw bad("an op line needs a 'process'") }
        var http: Int? = nil
        if let h = o["http"], h != .null {
            guard let hi = h.intValue else { throw bad("'http' is not an integer") }
            http = Int(hi)
        }
        return HistoryEvent(
            index: Int(index), kind: kind, type: type, process: process, f: f, key: o["key"]?.stringValue,
            value: o["value"], time: time, gateway: o["gw"]?.stringValue, http: http, etag: o["etag"]?.stringValue,
            requestID: o["req_id"]?.stringValue, error: o["error"]?.stringValue,
            extra: o.filter { !eventFields.contains($0.key) }
        )
    }
}
