import MetaContract

/// Byte-string helpers for range scans over keys stored as BLOBs (byte order).
enum KeyRange {
    /// The smallest byte string greater than every string starting with `prefix`, or nil if there is none
    /// (empty prefix, or all 0xFF bytes: no upper bound).
    static func successor(ofPrefix prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }

    /// The smallest byte string strictly greater than `value`: `value` followed by a zero byte.
    static func immediateSuccessor(of value: [UInt8]) -> [UInt8] {
        value + [0]
    }

    /// Byte-order comparison (S3 key order). Swift's `String <` compares by Unicode rules, not bytes.
    static func less(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        left.lexicographicallyPrecedes(right)
    }

    /// If `key` (which starts with `prefix`) holds `delimiter` after the prefix, the common prefix it rolls up
    /// into: the key up to and including the first such delimiter.
    static func commonPrefix(of key: [UInt8], prefixCount: Int, delimiter: [UInt8]) -> [UInt8]? {
        guard !delimiter.isEmpty, key.count >= prefixCount + delimiter.count else { return nil }
        var start = prefixCount
        while start + delimiter.count <= key.count {
            if key[start] == delimiter[0] && key[start..<(start + delimiter.count)].elementsEqual(delimiter) {
                return Array(key[..<(start + delimiter.count)])
            }
            start += 1
        }
        return nil
    }
}
