import Crypto
import Foundation

/// The policy of a browser-based upload (POST Object): a base64 JSON document with an `expiration` and a
/// list of `conditions` the form's fields must meet, signed by the uploader's key (SigV4: `x-amz-*`
/// fields; SigV2: `AWSAccessKeyId` and `signature`). Pure: parsing, evaluation and signature checks.
///
/// Who calls what: the Gateway's POST Object handler parses `policy` with `parse`, finds the signer with
/// `PostSignature.parse`, verifies it with `verify` against the user's secret, then `check`s the fields
/// (names lower-cased, `key` with `${filename}` already substituted) and keeps `contentLengthRange`.
public struct PostPolicy: Sendable, Equatable {
    /// One condition of the policy.
    public enum Condition: Sendable, Equatable {
        /// The field (lower-cased name) must equal the value (`{"acl": "private"}`, `["eq", "$acl", …]`).
        case equals(field: String, value: String)
        /// The field must start with the prefix (`["starts-with", "$key", "user/"]`; "" allows anything).
        case startsWith(field: String, prefix: String)
        /// The file's size must lie in `min...max` bytes.
        case contentLengthRange(min: Int64, max: Int64)
    }

    /// When the policy stops being valid (milliseconds since the Unix epoch).
    public var expirationMilliseconds: Int64
    public var conditions: [Condition]

    /// Form fields no condition needs to name (AWS): the signature and policy themselves, the file, fields
    /// whose name starts with `x-ignore-`, and the `x-amz-checksum-*` digests (they can only make the upload
    /// fail, never widen what it may do).
    static let exemptFields: Set<String> = ["policy", "signature", "x-amz-signature", "awsaccesskeyid", "file"]

    /// The size range the conditions allow, nil when they set none.
    public var contentLengthRange: ClosedRange<Int64>? {
        for case .contentLengthRange(let min, let max) in conditions { return min...max }
        return nil
    }

    /// Parses the base64 `policy` field. Top-level keys are case-sensitive (`expiration`, `conditions`),
    /// condition operators and field names are not.
    public static func parse(base64 text: String) throws(PostPolicyError) -> PostPolicy {
        guard text.utf8.count <= S3Limits.postFormFieldsBytesMax,
              let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .malformed("the policy is not base64")
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .malformed("the policy is not a JSON object")
        }
        guard let expiration = root["expiration"] as? String else {
            throw .malformed("Invalid Policy: Policy missing expiration.")
        }
        guard let milliseconds = S3Time.parseISO8601(expiration) else {
            throw .malformed("Invalid Policy: Invalid 'expiration' value: '\(expiration)'")
        }
        guard let list = root["conditions"] as? [Any] else {
            throw .malformed("Invalid Policy: Policy missing conditions.")
        }
        var conditions: [Condition] = []
        for item in list {
            if let object = item as? [String: Any] {
                guard object.count == 1, let (name, value) = object.first, let text = Self.scalar(value) else {
                    throw .malformed("Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
                }
                conditions.append(.equals(field: name.lowercased(), value: text))
            } else if let array = item as? [Any], let operation = (array.first as? String)?.lowercased() {
                switch operation {
                case "eq", "starts-with":
                    guard array.count == 3, let name = array[1] as? String, name.hasPrefix("$"),
                          let value = Self.scalar(array[2]) else {
                        throw .malformed("Invalid Policy: Invalid '\(operation)' condition.")
                    }
                    let field = String(name.dropFirst()).lowercased()
                    conditions.append(operation == "eq" ? .equals(field: field, value: value)
                                                        : .startsWith(field: field, prefix: value))
                case "content-length-range":
                    guard array.count == 3, let low = Self.integer(array[1]), let high = Self.integer(array[2]),
                          low >= 0, high >= low else {
                        throw .malformed("Invalid Policy: Invalid content-length-range.")
                    }
                    conditions.append(.contentLengthRange(min: low, max: high))
                default:
                    throw .malformed("Invalid Policy: Invalid condition operator '\(operation)'.")
                }
            } else {
                throw .malformed("Invalid Policy: Invalid condition.")
            }
        }
        return PostPolicy(expirationMilliseconds: milliseconds, conditions: conditions)
    }

    /// Refuses unless the policy is unexpired at `now`, every condition holds for `fields` (lower-cased
    /// names; `bucket` is the bucket posted to), and every field is named by some condition.
    public func check(fields: [String: String], bucket: String, now: Int64) throws(PostPolicyError) {
        guard now < expirationMilliseconds else { throw .denied("Invalid according to Policy: Policy expired.") }
        var values = fields
        values["bucket"] = bucket
        var named: Set<String> = ["bucket"]
        for condition in conditions {
            switch condition {
            case .equals(let field, let value):
                named.insert(field)
                guard values[field] == value else {
                    throw .denied("Invalid according to Policy: Policy Condition failed: [\"eq\", \"$\(field)\", \"\(value)\"]")
                }
            case .startsWith(let field, let prefix):
                named.insert(field)
                // `starts-with ""` allows any value, an absent field too; any other prefix needs the field.
                let value = values[field] ?? ""
                guard (values[field] != nil || prefix.isEmpty),
                      value.hasPrefix(prefix) || Self.anyPartStarts(value, with: prefix, field: field) else {
                    throw .denied("Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$\(field)\", \"\(prefix)\"]")
                }
            case .contentLengthRange:
                continue
            }
        }
        let extra = fields.keys.filter {
            !named.contains($0) && !Self.exemptFields.contains($0) && !$0.hasPrefix("x-ignore-")
                && !$0.hasPrefix("x-amz-checksum-")
        }
        if let first = extra.sorted().first {
            throw .denied("Invalid according to Policy: Extra input fields: \(first)")
        }
    }

    /// `Content-Type` may list several types, comma-separated: each must meet the prefix (AWS).
    private static func anyPartStarts(_ value: String, with prefix: String, field: String) -> Bool {
        guard field == "content-type", value.contains(",") else { return false }
        return value.split(separator: ",").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
    }

    private static func scalar(_ value: Any) -> String? {
        if let text = value as? String { return text }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }

    private static func integer(_ value: Any) -> Int64? {
        if let text = value as? String { return Int64(text) }
        if let number = value as? NSNumber {
            let double = number.doubleValue
            guard double.rounded() == double, abs(double) < 9e15 else { return nil }
            return Int64(double)
        }
        return nil
    }
}

/// Who signed a POST Object form, and how.
public enum PostSignature: Sendable, Equatable {
    /// SigV4: `x-amz-algorithm` AWS4-HMAC-SHA256, `x-amz-credential` (key/date/region/s3/aws4_request),
    /// `x-amz-date`, `x-amz-signature` (hex HMAC-SHA256 of the policy with the derived key).
    case v4(accessKeyID: String, scope: SigV4Scope, signature: String)
    /// SigV2: `AWSAccessKeyId` and `signature` (base64 HMAC-SHA1 of the policy with the secret).
    case v2(accessKeyID: String, signature: String)

    public var accessKeyID: String {
        switch self {
        case .v4(let key, _, _), .v2(let key, _): return key
        }
    }

    /// The signature fields of `fields` (lower-cased names); nil when the form carries none (anonymous).
    /// A form that signs partly, or with a policy missing, is refused.
    public static func parse(fields: [String: String]) throws(PostPolicyError) -> PostSignature? {
        if let algorithm = fields["x-amz-algorithm"] {
            guard algorithm == "AWS4-HMAC-SHA256" else { throw .invalidArgument("Unsupported x-amz-algorithm \(algorithm)") }
            guard let credential = fields["x-amz-credential"], let signature = fields["x-amz-signature"],
                  fields["x-amz-date"] != nil, fields["policy"] != nil else {
                throw .invalidArgument("Bucket POST must contain the fields x-amz-credential, x-amz-date, x-amz-signature and policy")
            }
            let parts = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 5, parts[3] == "s3", parts[4] == "aws4_request", !parts[0].isEmpty else {
                throw .invalidArgument("Invalid x-amz-credential \(credential)")
            }
            return .v4(accessKeyID: parts[0], scope: SigV4Scope(date: parts[1], region: parts[2], service: "s3"),
                       signature: signature)
        }
        if let key = fields["awsaccesskeyid"] {
            guard let signature = fields["signature"] else {
                throw .invalidArgument("Bucket POST must contain a field named 'signature'.")
            }
            guard fields["policy"] != nil else { throw .invalidArgument("Bucket POST must contain a field named 'policy'.") }
            return .v2(accessKeyID: key, signature: signature)
        }
        if fields["policy"] != nil || fields["signature"] != nil || fields["x-amz-signature"] != nil {
            throw .invalidArgument("Bucket POST must contain a field named 'AWSAccessKeyId' or 'x-amz-credential'.")
        }
        return nil
    }

    /// Refuses unless the signature is the policy's, made with `secretAccessKey`.
    public func verify(policy base64Policy: String, secretAccessKey: String) throws(PostPolicyError) {
        let expected: String
        let given: String
        switch self {
        case .v4(_, let scope, let signature):
            let key = SigV4.signingKey(secretAccessKey: secretAccessKey, scope: scope)
            expected = key.authenticationCode(base64Policy).map { String(format: "%02x", $0) }.joined()
            given = signature.lowercased()
        case .v2(_, let signature):
            let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Array(base64Policy.utf8),
                                                            using: SymmetricKey(data: Array(secretAccessKey.utf8)))
            expected = Data(mac).base64EncodedString()
            given = signature
        }
        guard SigV4.constantTimeEquals(expected, given) else {
            throw .signatureDoesNotMatch
        }
    }
}

/// Why a POST Object form was refused; the Gateway maps each case to its S3 error in `S3Error`.
public enum PostPolicyError: Error, Sendable, Equatable {
    /// The policy document cannot be read (400 InvalidPolicyDocument).
    case malformed(String)
    /// A condition failed, the policy expired or a field is not covered (403 AccessDenied).
    case denied(String)
    /// A required field is missing or invalid (400 InvalidArgument).
    case invalidArgument(String)
    /// The signature is not the policy's (403 SignatureDoesNotMatch).
    case signatureDoesNotMatch
}
