// Naming rules of S3 (general purpose buckets), object keys and user metadata.

/// Why a bucket name is invalid (the Gateway answers `InvalidBucketName` with the reason as message).
public enum BucketNameError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooShort(length: Int)
    case tooLong(length: Int)
    /// Only `a-z`, `0-9`, `.` and `-` are allowed.
    case invalidCharacter(Character)
    case mustStartWithLetterOrDigit
    case mustEndWithLetterOrDigit
    case adjacentPeriods
    /// A period next to a hyphen (`a-.b`, `a.-b`): each dot-separated label must start and end with a
    /// letter or digit, as in DNS.
    case periodNextToHyphen
    /// Looks like an IPv4 address (`192.168.5.4`).
    case ipAddressFormat
    /// Starts with a reserved prefix (`xn--`, `sthree-`, `amzn-s3-demo-`).
    case reservedPrefix(String)
    /// Ends with a reserved suffix (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`).
    case reservedSuffix(String)

    /// A message for the client.
    public var description: String {
        switch self {
        case .tooShort(let length): return "Bucket name is \(length) characters; it must have at least 3."
        case .tooLong(let length): return "Bucket name is \(length) characters; it must have at most 63."
        case .invalidCharacter(let character):
            return "Bucket name contains '\(character)'; only lowercase letters, digits, periods and hyphens are allowed."
        case .mustStartWithLetterOrDigit: return "Bucket name must begin with a letter or a digit."
        case .mustEndWithLetterOrDigit: return "Bucket name must end with a letter or a digit."
        case .adjacentPeriods: return "Bucket name must not contain two adjacent periods."
        case .periodNextToHyphen: return "Bucket name must not contain a period next to a hyphen."
        case .ipAddressFormat: return "Bucket name must not be formatted as an IP address."
        case .reservedPrefix(let prefix): return "Bucket name must not start with the reserved prefix '\(prefix)'."
        case .reservedSuffix(let suffix): return "Bucket name must not end with the reserved suffix '\(suffix)'."
        }
    }
}

/// The general purpose bucket naming rules of S3.
public enum BucketName {
    /// Prefixes S3 reserves.
    public static let reservedPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"]
    /// Suffixes S3 reserves (access point aliases, Object Lambda, Multi-Region Access Points, directory and
    /// table buckets).
    public static let reservedSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]

    /// Throws the first rule `name` breaks.
    public static func validate(_ name: String) throws(BucketNameError) {
        let count = name.utf8.count
        guard count >= S3Limits.bucketNameLengthMin else { throw .tooShort(length: count) }
        guard count <= S3Limits.bucketNameLengthMax else { throw .tooLong(length: count) }
        for character in name {
            guard character.isASCII, character.isLowercase || character.isNumber || character == "." || character == "-" else {
                throw .invalidCharacter(character)
            }
        }
        let bytes = Array(name.utf8)
        guard isLetterOrDigit(bytes.first!) else { throw .mustStartWithLetterOrDigit }
        guard isLetterOrDigit(bytes.last!) else { throw .mustEndWithLetterOrDigit }
        guard !name.contains("..") else { throw .adjacentPeriods }
        guard !name.contains(".-") && !name.contains("-.") else { throw .periodNextToHyphen }
        guard !isIPv4Address(name) else { throw .ipAddressFormat }
        for prefix in reservedPrefixes where name.hasPrefix(prefix) { throw .reservedPrefix(prefix) }
        for suffix in reservedSuffixes where name.hasSuffix(suffix) { throw .reservedSuffix(suffix) }
    }

    /// True when `name` follows every rule.
    public static func isValid(_ name: String) -> Bool {
        (try? validate(name)) != nil
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isIPv4Address(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isNumber) && Int(part).map { $0 <= 255 } == true
        }
    }
}

/// Why an object key is invalid.
public enum ObjectKeyError: Error, Sendable, Hashable {
    /// The key is empty.
    case empty
    /// The key's UTF-8 form is longer than 1024 bytes (`KeyTooLongError`).
    case tooLong(byteCount: Int)
}

/// Object key rules. Keys are opaque: `..`, `//`, control characters and any Unicode are valid and stored
/// exactly; keys never become file-system paths.
public enum ObjectKey {
    /// Throws unless `key` is 1 to 1024 bytes of UTF-8.
    public static func validate(_ key: String) throws(ObjectKeyError) {
        let count = key.utf8.count
        guard count > 0 else { throw .empty }
        guard count <= S3Limits.objectKeyBytesMax else { throw .tooLong(byteCount: count) }
    }
}

/// Why user metadata was refused.
public enum UserMetadataError: Error, Sendable, Hashable {
    /// Names plus values exceed 2 KiB (`MetadataTooLarge`).
    case tooLarge(byteCount: Int)
    /// A metadata header with nothing after `x-amz-meta-`.
    case emptyName
}

/// User-defined metadata (`x-amz-meta-*` headers).
public enum UserMetadata {
    /// The header prefix.
    public static let headerPrefix = "x-amz-meta-"

    /// The user metadata of a request: names lower-cased without the prefix, in first-appearance order,
    /// repeated headers joined with `,` (as S3 does). Throws when the total size (UTF-8 bytes of each name
    /// without the prefix plus its value, as AWS documents) exceeds `S3Limits.userMetadataBytesMax`.
    public static func parse(headers: [(name: String, value: String)]) throws(UserMetadataError) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for (headerName, value) in headers {
            let lowered = headerName.lowercased()
            guard lowered.hasPrefix(headerPrefix) else { continue }
            let name = String(lowered.dropFirst(headerPrefix.count))
            guard !name.isEmpty else { throw .emptyName }
            let trimmed = String(value.trimmingSpaces())
            if let index = result.firstIndex(where: { $0.name == name }) {
                result[index].value += "," + trimmed
            } else {
                result.append((name, trimmed))
            }
        }
        let byteCount = result.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        guard byteCount <= S3Limits.userMetadataBytesMax else { throw .tooLarge(byteCount: byteCount) }
        return result
    }
}
