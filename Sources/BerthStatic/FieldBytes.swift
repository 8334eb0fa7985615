extension UnsafeBufferPointer<UInt8> {
    /// `range` without the spaces and tabs around it: the optional whitespace HTTP allows
    /// around field values and list elements (OWS, RFC 9110 §5.6.3). The one rule for every
    /// field read as bytes.
    package func trimmingBlanks(_ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, self[lower] == UInt8(ascii: " ") || self[lower] == UInt8(ascii: "\t") { lower += 1 }
        while upper > lower, self[upper - 1] == UInt8(ascii: " ") || self[upper - 1] == UInt8(ascii: "\t") { upper -= 1 }
        return lower..<upper
    }
}
