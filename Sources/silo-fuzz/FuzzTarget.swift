/// One fuzz target: a parser (or decoder) of bytes that arrive from outside the process, driven with
/// arbitrary input. A target must never trap, hang or grow without bound, whatever the bytes; a thrown
/// error is a correct answer. Built two ways (see `Entry.swift`): as a libFuzzer binary
/// (`ops/fuzz/run`), and as a replayer of saved inputs that runs in the test suite.
struct FuzzTarget: Sendable {
    /// The name used on the command line and as the corpus folder name (`ops/fuzz/corpus/<name>`).
    let name: String
    /// Runs one input.
    let run: @Sendable ([UInt8]) -> Void
}

/// Every target, in the order `ops/fuzz/run` runs them.
enum FuzzTargets {
    static let all: [FuzzTarget] = s3Targets + consensusTargets + metadataTargets + blobTargets

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// A request written as text, the shape the auth and endpoint targets read: a first line
/// `METHOD TARGET`, then `name: value` header lines. Malformed lines are skipped: the fuzzer should spend
/// its time on the parsers under test, not on this one.
struct RequestText {
    var method = "GET"
    var path = "/"
    var query = ""
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []

    init(_ bytes: [UInt8]) {
        var lines = [[UInt8]]()
        var current = [UInt8]()
        var index = 0
        // Headers end at the first empty line; what follows is the body.
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\n") {
                if current.last == UInt8(ascii: "\r") { current.removeLast() }
                if current.isEmpty && !lines.isEmpty { break }
                lines.append(current)
                current = []
            } else {
                current.append(byte)
            }
        }
        if index >= bytes.count, !current.isEmpty { lines.append(current) }
        body = index < bytes.count ? Array(bytes[index...]) : []
        guard let first = lines.first else { return }
        let requestLine = String(decoding: first, as: UTF8.self).split(separator: " ", maxSplits: 2)
        if let method = requestLine.first { self.method = String(method) }
        if requestLine.count > 1 {
            let target = requestLine[1]
            if let mark = target.firstIndex(of: "?") {
                path = String(target[..<mark])
                query = String(target[target.index(after: mark)...])
            } else {
                path = String(target)
            }
        }
        for line in lines.dropFirst() {
            let text = String(decoding: line, as: UTF8.self)
            guard let colon = text.firstIndex(of: ":") else { continue }
            let name = text[..<colon].lowercased()
            let value = text[text.index(after: colon)...].drop { $0 == " " }
            headers.append((name: name, value: String(value)))
        }
    }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// The fixed identity the auth targets verify against; the seed corpus is signed with it.
enum FuzzIdentity {
    static let accessKeyID = "FUZZACCESSKEY000001"
    static let secretAccessKey = "fuzz-secret-key-0123456789abcdefghijklmn"
    static let region = "us-east-1"
    /// 2026-12-01T00:00:00Z, the time the seeds were signed at.
    static let nowMilliseconds: Int64 = 1_796_083_200_000
}
