/// The syntax of field names and values (RFC 9110 §5), in one place for every check of it: the
/// HTTP/1.1 parser, HTTP/2 request fields, and the fields an app answers with.
enum FieldSyntax {
    /// tchar (RFC 9110 §5.6.2): letters, digits and ``tokenPunctuation``, one bit per ASCII
    /// byte (bytes 0–63, then 64–127). A test derives both from the rule's text.
    static let tokenBitsLow: UInt64 = 0x03ff_6cfa_0000_0000
    static let tokenBitsHigh: UInt64 = 0x57ff_ffff_c7ff_fffe
    static let tokenPunctuation = "!#$%&'*+-.^_`|~"

    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte < 64 { return (tokenBitsLow >> UInt64(byte)) & 1 == 1 }
        if byte < 128 { return (tokenBitsHigh >> UInt64(byte &- 64)) & 1 == 1 }
        return false
    }

    /// A method or a field name: one or more tchar.
    static func isToken(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard !utf8.isEmpty else { return false }
        return utf8.withContiguousStorageIfAvailable { $0.allSatisfy(Self.isTokenByte) } ?? utf8.allSatisfy(Self.isTokenByte)
    }

    /// A field an app may add to its answer: anything else would let it forge fields or split
    /// the response.
    static func isSafeField(name: String, value: String) -> Bool {
        isToken(name) && isSafeValue(value)
    }

    /// A value that cannot split the message it is written into: visible characters, obs-text,
    /// SP and HTAB (RFC 9110 §5.5); no CR, LF, NUL or other control bytes, no DEL.
    static func isSafeValue(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { Self.isSafeValue(UnsafeRawBufferPointer($0)) }
    }

    /// `isSafeValue` over bytes, eight at a time: every field of every request is checked,
    /// and a browser's come to half a kilobyte. A word with no byte below 0x20 and no DEL is
    /// safe as it is; only a word with one (a tab, or a byte to refuse) is looked at bytewise.
    static func isSafeValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while index + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // Some byte is below 0x20, or is 0x7F (zero once XORed with 0x7F): exact where it
            // matters, and any false alarm is settled by the bytewise check.
            let below = (word &- ones &* 0x20) & ~word & highBits
            let deleted = word ^ (ones &* 0x7F)
            let del = (deleted &- ones) & ~deleted & highBits
            if below | del != 0 {
                for offset in index..<(index + 8) where !Self.isValueByte(bytes[offset]) { return false }
            }
            index += 8
        }
        while index < bytes.count {
            if !Self.isValueByte(bytes[index]) { return false }
            index += 1
        }
        return true
    }

    @inline(__always)
    private static func isValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }
}
