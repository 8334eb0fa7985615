/// Sizes as people write them in config files: `512`, `64KB`, `16KiB`, `10MiB`, `1.5MiB`.
///
/// Units are case-insensitive. `KB`, `MB`, `GB`, `TB` are powers of 1000 as their SI names
/// say; `KiB`, `MiB`, `GiB`, `TiB` and the bare `K`, `M`, `G`, `T` are powers of 1024,
/// because that is what `16K` means in every server config people copy from.
public enum ByteSize {
    /// The number of bytes, or nil for text that is not a size (or does not fit in an `Int`).
    public static func parse(_ text: String) -> Int? {
        let trimmed = String(text.trimmingSpaces())
        guard let split = trimmed.firstIndex(where: { !($0.isASCII && ($0.isNumber || $0 == ".")) })
        else { return scaled(trimmed, by: 1) }
        let number = String(trimmed[..<split])
        let unit = String(trimmed[split...]).trimmingSpaces().lowercased()
        guard let multiplier = multipliers[unit] else { return nil }
        return scaled(number, by: multiplier)
    }

    private static let multipliers: [String: Int] = [
        "b": 1,
        "kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000, "tb": 1000 * 1000 * 1000 * 1000,
        "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    ]

    /// `number × multiplier` for a decimal like `1.5`, rounded to whole bytes, without going
    /// through `Double` so that large exact values stay exact.
    private static func scaled(_ number: String, by multiplier: Int) -> Int? {
        guard let decimal = DecimalText(number) else { return nil }
        guard let whole = decimal.whole.multipliedChecked(by: multiplier) else { return nil }
        var fraction = 0
        if decimal.fractionDigits.count > 0 {
            // Only 18 digits are kept: beyond that no multiplier here changes the rounded result.
            let digits = decimal.fractionDigits.prefix(18)
            guard let numerator = Int(digits) else { return nil }
            var denominator = 1
            for _ in digits { denominator *= 10 }
            let product = numerator.multipliedFullWidth(by: multiplier)
            let (quotient, remainder) = denominator.dividingFullWidth(product)
            fraction = quotient + (remainder * 2 >= denominator ? 1 : 0)
        }
        return whole.addedChecked(fraction)
    }
}

/// A non-negative decimal number split at its point; shared by sizes and durations.
struct DecimalText {
    var whole: Int
    var fractionDigits: Substring

    /// Accepts `12`, `1.5`, `.5` and `3.`; rejects signs, exponents and anything else, since a
    /// config value like `-1KiB` or `1e3s` is far more likely a mistake than an intent.
    init?(_ text: some StringProtocol) {
        let text = Substring(text)
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let wholeText = parts[0]
        let fractionText = parts.count > 1 ? parts[1] : ""
        guard !(wholeText.isEmpty && fractionText.isEmpty),
              wholeText.allSatisfy({ $0.isASCII && $0.isNumber }),
              fractionText.allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        guard let whole = wholeText.isEmpty ? 0 : Int(wholeText) else { return nil }
        self.whole = whole
        self.fractionDigits = fractionText
    }
}

extension Int {
    func multipliedChecked(by other: Int) -> Int? {
        let (result, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? nil : result
    }

    func addedChecked(_ other: Int) -> Int? {
        let (result, overflow) = addingReportingOverflow(other)
        return overflow ? nil : result
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (the blanks HTTP and YAML allow).
    package func trimmingSpaces() -> Substring {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return view
    }
}
