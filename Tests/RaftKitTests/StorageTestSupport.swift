import Foundation
@testable import RaftKit

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ label: String) {
        path = NSTemporaryDirectory() + "silo-\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    func files(withSuffix suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
            .map { path + "/" + $0 }
    }
}

func readFile(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path)!)
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    try! Data(bytes).write(to: URL(fileURLWithPath: path))
}

func payload(_ index: UInt64, bytes: Int = 32) -> [UInt8] {
    (0..<bytes).map { UInt8(truncatingIfNeeded: Int(index) &* 31 &+ $0) }
}

/// Decodes every record of a segment file, stopping at the first failure.
func decodeAll(_ bytes: [UInt8]) -> [WALRecord] {
    var records: [WALRecord] = []
    var offset = 0
    while case .record(let record, let next) = WALRecordCodec.decode(bytes, at: offset) {
        records.append(record)
        offset = next
    }
    return records
}
