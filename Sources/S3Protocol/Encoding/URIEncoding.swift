// Percent-encoding as S3 does it: RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) pass, every other
// byte of the UTF-8 form becomes %XX with upper-case hex. Used by SigV4 canonicalization, by list responses
// with `encoding-type=url`, and to decode paths, queries and `x-amz-copy-source`.

/// S3's URI encoding and decoding. Pure functions over UTF-8 bytes.
public enum S3URIEncoding {
    /// Encodes `string` as S3 (and SigV4) expect: every byte except `A-Z a-z 0-9 - . _ ~` becomes `%XX`
    /// (upper-case hex); `/` passes only when `keepSlash` is true (object key paths).
    public static func encode(_ string: String, keepSlash: Bool) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                output.append(byte)
            } else {
                appendPercentEncoded(byte, to: &output)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Encoding for list responses with `encoding-type=url` (Key, Prefix, Delimiter, StartAfter, Marker...).
    /// AWS encodes like `encode(_:keepSlash:)` with `/` kept (botocore decodes with `unquote`, so both forms
    /// round-trip); we keep `/` readable as AWS does.
    public static func encodeForListing(_ string: String) -> String {
        encode(string, keepSlash: true)
    }

    /// Decodes `%XX` escapes into bytes and reads the result as UTF-8. `+` stays `+` (S3 paths and SigV4
    /// queries do not use form encoding). Returns nil for a malformed escape (`%`, `%4`, `%zz`) or bytes that
    /// are not valid UTF-8.
    public static func decode(_ string: Substring) -> String? {
        guard let bytes = decodeBytes(string) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `decode(_:)` for a `String`.
    public static func decode(_ string: String) -> String? {
        decode(string[...])
    }

    /// Decodes `%XX` escapes into raw bytes. Nil for a malformed escape.
    public static func decodeBytes(_ string: Substring) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count)
        var iterator = string.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                output.append(high << 4 | low)
            } else {
                output.append(byte)
            }
        }
        return output
    }

    /// Re-encodes an already percent-encoded component into its canonical SigV4 form without decoding the
    /// structure: valid `%XX` escapes of unreserved bytes are decoded (`%7E` → `~`), other escapes are
    /// kept with upper-case hex (`%2f` → `%2F`), and any other byte that is not unreserved is encoded
    /// (`$` → `%24`). A `%` not followed by two hex digits is encoded as `%25`. `/` passes when `keepSlash`.
    /// This makes the canonical URI independent of how much the client escaped, without turning an
    /// escaped `%2F` into a path separator.
    static func canonicalize(_ raw: Substring, keepSlash: Bool) -> String {
        let bytes = Array(raw.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 16)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                let decoded = high << 4 | low
                if isUnreserved(decoded) {
                    output.append(decoded)
                } else {
                    appendPercentEncoded(decoded, to: &output)
                }
                index += 3
                continue
            }
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                output.append(byte)
            } else {
                appendPercentEncoded(byte, to: &output)
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func appendPercentEncoded(_ byte: UInt8, to output: inout [UInt8]) {
        let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
        output.append(UInt8(ascii: "%"))
        output.append(digits[Int(byte >> 4)])
        output.append(digits[Int(byte & 0x0F)])
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Lower-case hex encoding and decoding of digests.
public enum Hex {
    /// Lower-case hex of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of a hex string (either case). Nil for odd length or a non-hex character.
    public static func decode(_ string: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(string.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = S3URIEncoding.hexValue(utf8[index]), let low = S3URIEncoding.hexValue(utf8[index + 1]) else {
                return nil
            }
            output.append(high << 4 | low)
            index += 2
        }
        return output
    }
}
