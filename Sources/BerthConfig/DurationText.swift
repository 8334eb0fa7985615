/// Durations as people write them in config files: `500ms`, `10s`, `2m`, `1h`, `1d`, `1m30s`,
/// `1.5s`; a bare number is seconds. Units are case-insensitive; components may be separated
/// by spaces (`1h 30m`).
public enum DurationText {
    /// The duration, or nil for text that is not one (negative values included).
    public static func parse(_ text: String) -> Duration? {
        let trimmed = String(text.trimmingSpaces())
        if let plain = DecimalText(trimmed) {
            return nanoseconds(plain, unit: unitNanoseconds["s"]!).map(Duration.nanoseconds)
        }
        var rest = Substring(trimmed.lowercased())
        var total = 0
        var sawComponent = false
        while !rest.isEmpty {
            let numberEnd = rest.firstIndex(where: { !($0.isASCII && ($0.isNumber || $0 == ".")) })
                ?? rest.endIndex
            let unitEnd = rest[numberEnd...].firstIndex(where: { !($0.isASCII && $0.isLetter) })
                ?? rest.endIndex
            guard let number = DecimalText(rest[..<numberEnd]),
                  let unit = unitNanoseconds[String(rest[numberEnd..<unitEnd])],
                  let part = nanoseconds(number, unit: unit),
                  let sum = total.addedChecked(part)
            else { return nil }
            total = sum
            sawComponent = true
            rest = rest[unitEnd...].drop(while: { $0 == " " })
        }
        return sawComponent ? .nanoseconds(total) : nil
    }

    private static let unitNanoseconds: [String: Int] = [
        "ms": 1_000_000,
        "s": 1_000_000_000,
        "m": 60 * 1_000_000_000,
        "h": 3600 * 1_000_000_000,
        "d": 86_400 * 1_000_000_000,
    ]

    /// Whole nanoseconds; any remainder below a nanosecond is dropped.
    private static func nanoseconds(_ number: DecimalText, unit: Int) -> Int? {
        guard var total = number.whole.multipliedChecked(by: unit) else { return nil }
        var scale = unit
        for digit in number.fractionDigits {
            scale /= 10
            if scale == 0 { break }
            guard let next = total.addedChecked(digit.wholeNumberValue! * scale) else { return nil }
            total = next
        }
        return total
    }
}

extension Duration {
    /// Whole seconds, rounded down; what `Cache-Control: max-age` wants.
    package var wholeSeconds: Int64 { components.seconds }
}
