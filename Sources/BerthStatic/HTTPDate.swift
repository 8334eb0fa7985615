#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// HTTP-date formatting and parsing (RFC 9110 §5.6.7), without Foundation or locale lookups so
/// it is cheap enough for every response on an event loop.
public enum HTTPDate {
    private static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longDayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate, e.g. `"Sun, 06 Nov 1994 08:49:37 GMT"`: the only format a sender may
    /// generate (RFC 9110 §5.6.7).
    public static func format(_ secondsSince1970: Int) -> String {
        let days = secondsSince1970 >= 0 ? secondsSince1970 / 86_400 : (secondsSince1970 - 86_399) / 86_400
        let secondOfDay = secondsSince1970 - days * 86_400
        let (year, month, day) = civilDate(fromDays: days)
        // 1970-01-01 was a Thursday (index 3 when Monday is 0).
        let weekday = ((days % 7) + 7 + 3) % 7
        var out = dayNames[weekday]
        out += ", " + twoDigits(day) + " " + monthNames[month - 1] + " "
        out += fourDigits(year) + " "
        out += twoDigits(secondOfDay / 3600) + ":" + twoDigits(secondOfDay / 60 % 60) + ":"
        out += twoDigits(secondOfDay % 60) + " GMT"
        return out
    }

    /// Accepts the three formats a recipient must understand (RFC 9110 §5.6.7): IMF-fixdate,
    /// the obsolete RFC 850 format and asctime. Returns seconds since 1970, or nil.
    public static func parse(_ text: String) -> Int? {
        var text = text
        if let result = text.withUTF8(parseIMFFixdate) { return result }
        let value = String(text.trimmingSpaces())
        if let result = parseRFC850(value) { return result }
        return parseAsctime(value)
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`: fixed positions, read as bytes. It is what every
    /// client sends back in If-Modified-Since, so it is tried first and without copies.
    private static func parseIMFFixdate(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let trimmed = bytes.trimmingBlanks(0..<bytes.count)
        guard trimmed.count == 29 else { return nil }
        let date = UnsafeBufferPointer(rebasing: bytes[trimmed])
        func key(_ at: Int) -> UInt32 { UInt32(date[at]) << 16 | UInt32(date[at + 1]) << 8 | UInt32(date[at + 2]) }
        func number(_ at: Int, digits: Int) -> Int? {
            var value = 0
            for index in at..<(at + digits) {
                let byte = date[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard imfSeparators.allSatisfy({ date[$0.0] == $0.1 }), key(26) == gmtKey, dayKeys.contains(key(0)),
            let monthOffset = monthKeys.firstIndex(of: key(8)),
            let day = number(5, digits: 2), let year = number(12, digits: 4),
            let hour = number(17, digits: 2), let minute = number(20, digits: 2), let second = number(23, digits: 2),
            hour < 24, minute < 60, second <= 60  // 60: a leap second is representable (RFC 5322 §3.3)
        else { return nil }
        return timestamp(year: year, month: monthOffset + 1, day: day, time: hour * 3600 + minute * 60 + min(second, 59))
    }

    /// Where IMF-fixdate has which separator.
    private static let imfSeparators: [(Int, UInt8)] = [
        (3, UInt8(ascii: ",")), (4, UInt8(ascii: " ")), (7, UInt8(ascii: " ")), (11, UInt8(ascii: " ")),
        (16, UInt8(ascii: " ")), (19, UInt8(ascii: ":")), (22, UInt8(ascii: ":")), (25, UInt8(ascii: " ")),
    ]
    /// Three-letter names as numbers, for comparing without strings.
    private static func threeLetterKey(_ name: String) -> UInt32 { name.utf8.prefix(3).reduce(0) { $0 << 8 | UInt32($1) } }
    private static let dayKeys = dayNames.map(threeLetterKey)
    private static let monthKeys = monthNames.map(threeLetterKey)
    private static let gmtKey = threeLetterKey("GMT")

    /// `Sunday, 06-Nov-94 08:49:37 GMT`
    private static func parseRFC850(_ text: String) -> Int? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0].last == ",", longDayNames.contains(String(fields[0].dropLast())),
            fields[3] == "GMT"
        else { return nil }
        let dateParts = fields[1].split(separator: "-", omittingEmptySubsequences: false)
        guard dateParts.count == 3, dateParts[0].count == 2, let day = Int(dateParts[0]),
            let month = monthIndex(dateParts[1]),
            dateParts[2].count == 2, let shortYear = Int(dateParts[2]),
            let time = parseTime(fields[2])
        else { return nil }
        // RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future
        // means the most recent past year with the same last two digits.
        let currentYear = civilDate(fromDays: Int(Glibc.time(nil)) / 86_400).year
        var year = currentYear - currentYear % 100 + shortYear
        if year > currentYear + 50 { year -= 100 }
        return timestamp(year: year, month: month, day: day, time: time)
    }

    /// `Sun Nov  6 08:49:37 1994` (the day is space-padded)
    private static func parseAsctime(_ text: String) -> Int? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 5, dayNames.contains(String(fields[0])),
            let month = monthIndex(fields[1]),
            (1...2).contains(fields[2].count), let day = Int(fields[2]),
            let time = parseTime(fields[3]),
            fields[4].count == 4, let year = Int(fields[4])
        else { return nil }
        return timestamp(year: year, month: month, day: day, time: time)
    }

    private static func parseTime(_ field: Substring) -> Int? {
        let parts = field.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), let second = Int(parts[2]),
            hour < 24, minute < 60, second <= 60  // 60: a leap second is representable (RFC 5322 §3.3)
        else { return nil }
        return hour * 3600 + minute * 60 + min(second, 59)
    }

    private static func monthIndex(_ field: Substring) -> Int? {
        monthNames.firstIndex(of: String(field)).map { $0 + 1 }
    }

    private static func timestamp(year: Int, month: Int, day: Int, time: Int) -> Int? {
        guard day >= 1, day <= daysInMonth(year: year, month: month), (1...9999).contains(year) else { return nil }
        return days(fromYear: year, month: month, day: day) * 86_400 + time
    }

    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithms).
    private static func days(fromYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }

    private static func fourDigits(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}

extension Character {
    /// Compared by its ASCII value: a `ClosedRange<Character>` also holds a digit followed by a
    /// combining mark ("1\u{301}" sorts between "0" and "9"), which `Int(_:)` then refuses.
    var isASCIIDigit: Bool { self.asciiValue.map { (0x30...0x39).contains($0) } ?? false }
}
