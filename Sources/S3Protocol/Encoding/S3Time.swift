// Time formats of the S3 protocol, from and to milliseconds since the Unix epoch (UTC), by calendar
// arithmetic (Howard Hinnant's days-from-civil algorithms): no DateFormatter, no locale, no time zone
// database, thread-safe and allocation-light.

/// S3's three timestamp formats: ISO 8601 in XML bodies (`2009-10-12T17:50:30.000Z`), HTTP dates in
/// headers (`Mon, 12 Oct 2009 17:50:30 GMT`), and the SigV4 basic form (`20091012T175030Z`). All values are
/// milliseconds since 1970-01-01T00:00:00Z.
public enum S3Time {
    // MARK: Formatting

    /// `2009-10-12T17:50:30.000Z`, the form of `LastModified`, `Initiated` and friends in S3 XML.
    public static func iso8601(milliseconds: Int64) -> String {
        let fields = Fields(milliseconds: milliseconds)
        return "\(pad(fields.year, 4))-\(pad(fields.month, 2))-\(pad(fields.day, 2))T\(pad(fields.hour, 2)):"
            + "\(pad(fields.minute, 2)):\(pad(fields.second, 2)).\(pad(fields.millisecond, 3))Z"
    }

    /// `Mon, 12 Oct 2009 17:50:30 GMT` (RFC 7231 IMF-fixdate, the RFC 1123 form), for `Last-Modified`.
    public static func httpDate(milliseconds: Int64) -> String {
        let fields = Fields(milliseconds: milliseconds)
        return "\(weekdayNames[fields.weekday]), \(pad(fields.day, 2)) \(monthNames[fields.month - 1]) \(pad(fields.year, 4)) "
            + "\(pad(fields.hour, 2)):\(pad(fields.minute, 2)):\(pad(fields.second, 2)) GMT"
    }

    /// `20091012T175030Z`, the SigV4 `X-Amz-Date` form (seconds precision: milliseconds are dropped).
    public static func amzDate(milliseconds: Int64) -> String {
        let fields = Fields(milliseconds: milliseconds)
        return "\(pad(fields.year, 4))\(pad(fields.month, 2))\(pad(fields.day, 2))T\(pad(fields.hour, 2))"
            + "\(pad(fields.minute, 2))\(pad(fields.second, 2))Z"
    }

    // MARK: Parsing

    /// Parses `20091012T175030Z`. Nil unless exactly that shape with a valid date and time.
    public static func parseAmzDate(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        guard let year = number(bytes, 0, 4), let month = number(bytes, 4, 2), let day = number(bytes, 6, 2),
            let hour = number(bytes, 9, 2), let minute = number(bytes, 11, 2), let second = number(bytes, 13, 2)
        else { return nil }
        return milliseconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second, millisecond: 0)
    }

    /// Parses ISO 8601 UTC timestamps as S3 and its clients write them: `2009-10-12T17:50:30Z`, with an
    /// optional fraction of 1 to 9 digits (`.000`, `.123456`), with `Z` or `+00:00`.
    public static func parseISO8601(_ text: some StringProtocol) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        guard let year = number(bytes, 0, 4), let month = number(bytes, 5, 2), let day = number(bytes, 8, 2),
            let hour = number(bytes, 11, 2), let minute = number(bytes, 14, 2), let second = number(bytes, 17, 2)
        else { return nil }
        var index = 19
        var millisecond = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, let digit = digit(bytes[index]) {
                if digits < 3 { millisecond = millisecond * 10 + digit }
                digits += 1
                index += 1
            }
            guard (1...9).contains(digits) else { return nil }
            for _ in digits..<max(digits, 3) { millisecond *= 10 }
        }
        let zone = bytes[index...]
        guard zone.elementsEqual("Z".utf8) || zone.elementsEqual("z".utf8) || zone.elementsEqual("+00:00".utf8) else {
            return nil
        }
        return milliseconds(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second, millisecond: millisecond)
    }

    /// Parses an HTTP date in any of the three forms RFC 7231 §7.1.1.1 requires recipients to accept:
    /// IMF-fixdate / RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
    /// and asctime (`Sun Nov  6 08:49:37 1994`). The weekday name is checked for shape, not for agreement
    /// with the date (as most servers do). Also the RFC 1123 / RFC 2822 form with a numeric zone
    /// (`Sun, 06 Nov 1994 09:49:37 +0100`; `-0000` is UTC), which Python's `email.utils.formatdate` writes
    /// and botocore signs as the `Date` header. Nil for anything else.
    public static func parseHTTPDate(_ text: some StringProtocol) -> Int64? {
        let trimmed = text.utf8.drop { $0 == UInt8(ascii: " ") }
        let bytes = Array(trimmed.reversed().drop { $0 == UInt8(ascii: " ") }.reversed())
        if let comma = bytes.firstIndex(of: UInt8(ascii: ",")) {
            let rest = Array(bytes[(comma + 1)...])
            guard comma == 3 else { return parseRFC850(rest) }
            if let (utc, offsetMilliseconds) = numericZone(rest) {
                return parseIMFFixdate(utc).map { $0 - offsetMilliseconds }
            }
            return parseIMFFixdate(rest)
        }
        return parseAsctime(bytes)
    }

    // " 06 Nov 1994 09:49:37 +0100" → (" 06 Nov 1994 09:49:37 GMT", +1 h): the date read as GMT, and the
    // zone's offset to subtract. Nil unless the text ends in a space and ±HHMM (minutes below 60).
    private static func numericZone(_ bytes: [UInt8]) -> ([UInt8], Int64)? {
        guard bytes.count == 27, bytes[21] == UInt8(ascii: " "),
            bytes[22] == UInt8(ascii: "+") || bytes[22] == UInt8(ascii: "-"),
            let hours = number(bytes, 23, 2), let minutes = number(bytes, 25, 2), minutes < 60
        else { return nil }
        let offset = Int64(hours * 60 + minutes) * 60_000
        return (Array(bytes[..<21]) + Array(" GMT".utf8), bytes[22] == UInt8(ascii: "-") ? -offset : offset)
    }

    // " 06 Nov 1994 08:49:37 GMT"
    private static func parseIMFFixdate(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count == 25, bytes[0] == UInt8(ascii: " "), bytes[3] == UInt8(ascii: " "), bytes[7] == UInt8(ascii: " "),
            bytes[12] == UInt8(ascii: " "), bytes[21...].elementsEqual(" GMT".utf8)
        else { return nil }
        guard let day = number(bytes, 1, 2), let month = monthNumber(bytes[4..<7]), let year = number(bytes, 8, 4),
            let time = clock(bytes, 13)
        else { return nil }
        return milliseconds(year: year, month: month, day: day, hour: time.0, minute: time.1, second: time.2, millisecond: 0)
    }

    // " 06-Nov-94 08:49:37 GMT"
    private static func parseRFC850(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count == 23, bytes[0] == UInt8(ascii: " "), bytes[3] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: " "), bytes[19...].elementsEqual(" GMT".utf8)
        else { return nil }
        guard let day = number(bytes, 1, 2), let month = monthNumber(bytes[4..<7]), let shortYear = number(bytes, 8, 2),
            let time = clock(bytes, 11)
        else { return nil }
        // RFC 7231: a two-digit year more than 50 years in the future is in the past century. Without a clock
        // we use the fixed pivot of 1970: 70-99 → 19xx, 00-69 → 20xx.
        let year = shortYear >= 70 ? 1900 + shortYear : 2000 + shortYear
        return milliseconds(year: year, month: month, day: day, hour: time.0, minute: time.1, second: time.2, millisecond: 0)
    }

    // "Sun Nov  6 08:49:37 1994"
    private static func parseAsctime(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count == 24, bytes[3] == UInt8(ascii: " "), bytes[7] == UInt8(ascii: " "), bytes[10] == UInt8(ascii: " "),
            bytes[19] == UInt8(ascii: " ")
        else { return nil }
        let dayText: [UInt8] = bytes[8] == UInt8(ascii: " ") ? [UInt8(ascii: "0"), bytes[9]] : [bytes[8], bytes[9]]
        guard weekdayNames.contains(where: { $0.utf8.elementsEqual(bytes[0..<3]) }),
            let day = number(dayText, 0, 2), let month = monthNumber(bytes[4..<7]), let time = clock(bytes, 11),
            let year = number(bytes, 20, 4)
        else { return nil }
        return milliseconds(year: year, month: month, day: day, hour: time.0, minute: time.1, second: time.2, millisecond: 0)
    }

    // MARK: Calendar arithmetic

    /// Milliseconds since the epoch of a UTC civil time; nil when a field is out of range.
    static func milliseconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month), (0...23).contains(hour),
            (0...59).contains(minute), (0...60).contains(second), (0...999).contains(millisecond)
        else { return nil }
        // A leap second (:60) is read as the next second, as most HTTP implementations do.
        let days = Int64(daysFromCivil(year: year, month: month, day: day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return seconds * 1000 + Int64(millisecond)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant, `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Broken-down UTC time (Hinnant, `civil_from_days`).
    struct Fields {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int, weekday: Int

        init(milliseconds: Int64) {
            let (seconds, millis) = Self.floorDivide(milliseconds, 1000)
            let (days, secondOfDay) = Self.floorDivide(seconds, 86_400)
            let z = Int(days) + 719_468
            let era = (z >= 0 ? z : z - 146_096) / 146_097
            let dayOfEra = z - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let monthIndex = (5 * dayOfYear + 2) / 153
            day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
            month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
            year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
            hour = Int(secondOfDay / 3600)
            minute = Int(secondOfDay % 3600 / 60)
            second = Int(secondOfDay % 60)
            millisecond = Int(millis)
            // 1970-01-01 was a Thursday (index 4 with Sunday = 0).
            weekday = Int(Self.floorDivide(days + 4, 7).1)
        }

        static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
            let quotient = value / divisor
            let remainder = value % divisor
            return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
        }
    }

    static let weekdayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func monthNumber(_ bytes: ArraySlice<UInt8>) -> Int? {
        monthNames.firstIndex { $0.utf8.elementsEqual(bytes) }.map { $0 + 1 }
    }

    private static func clock(_ bytes: [UInt8], _ start: Int) -> (Int, Int, Int)? {
        guard bytes.count >= start + 8, bytes[start + 2] == UInt8(ascii: ":"), bytes[start + 5] == UInt8(ascii: ":"),
            let hour = number(bytes, start, 2), let minute = number(bytes, start + 3, 2), let second = number(bytes, start + 6, 2)
        else { return nil }
        return (hour, minute, second)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start >= 0, start + count <= bytes.count else { return nil }
        var value = 0
        for index in start..<(start + count) {
            guard let digit = digit(bytes[index]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
