/// Writes S3 XML documents: a declaration, then nested elements, with text escaped for XML 1.0.
///
/// Escaping: `&`, `<`, `>`, `"`, `'` become entities; `\r` and `\t` become character references (so they
/// survive attribute-value and line-end normalization); other C0 control characters, which XML 1.0 cannot
/// carry at all, become `&#xN;` too, as S3 does for keys with control characters (clients that cannot parse
/// them should use `encoding-type=url`).
public struct XMLWriter: Sendable {
    /// The document so far.
    public private(set) var text: String
    private var openElements: [String] = []

    /// The S3 namespace, on the root element of most responses.
    public static let s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// Starts a document with the XML declaration.
    public init() {
        text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    }

    /// Opens `<name>` (with `xmlns` when given, then `attributes` in order).
    public mutating func open(_ name: String, namespace: String? = nil,
                              attributes: [(name: String, value: String)] = []) {
        text += "<" + name
        if let namespace { text += " xmlns=\"" + Self.escape(namespace) + "\"" }
        for attribute in attributes { text += " " + attribute.name + "=\"" + Self.escape(attribute.value) + "\"" }
        text += ">"
        openElements.append(name)
    }

    /// Closes the innermost open element, which must be `name`.
    public mutating func close(_ name: String) {
        let last = openElements.popLast()
        precondition(last == name, "closing <\(name)> while <\(last ?? "nothing")> is open")
        text += "</" + name + ">"
    }

    /// Writes `<name>escaped text</name>`.
    public mutating func element(_ name: String, _ value: String) {
        text += "<" + name + ">" + Self.escape(value) + "</" + name + ">"
    }

    /// Writes escaped character data inside the open element.
    public mutating func characters(_ value: String) {
        text += Self.escape(value)
    }

    /// Writes the element only when `value` is non-nil.
    public mutating func element(_ name: String, ifPresent value: String?) {
        if let value { element(name, value) }
    }

    /// Writes `<name>true</name>` / `false`.
    public mutating func element(_ name: String, _ value: Bool) {
        element(name, value ? "true" : "false")
    }

    /// Writes a decimal integer element.
    public mutating func element(_ name: String, _ value: Int64) {
        element(name, String(value))
    }

    /// Writes a decimal integer element.
    public mutating func element(_ name: String, _ value: Int) {
        element(name, String(value))
    }

    /// Writes `<name>` ... `</name>` around `body`.
    public mutating func element(_ name: String, namespace: String? = nil,
                                 attributes: [(name: String, value: String)] = [], _ body: (inout XMLWriter) -> Void) {
        open(name, namespace: namespace, attributes: attributes)
        body(&self)
        close(name)
    }

    /// The finished document; every element must be closed.
    public func finish() -> String {
        precondition(openElements.isEmpty, "XML document finished with open elements \(openElements)")
        return text
    }

    /// `value` with XML special and control characters escaped.
    public static func escape(_ value: String) -> String {
        var needsEscape = false
        for byte in value.utf8 where byte < 0x20 || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<")
            || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
        {
            needsEscape = true
            break
        }
        guard needsEscape else { return value }
        var output = ""
        output.reserveCapacity(value.utf8.count + 16)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            case "\n": output += "\n"
            default:
                if scalar.value < 0x20 {
                    output += "&#x" + String(scalar.value, radix: 16, uppercase: true) + ";"
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output
    }
}
