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
        let utf8 = value.utf8
        return utf8.withContiguousStorageIfAvailable { $0.allSatisfy(Self.isValueByte) } ?? utf8.allSatisfy(Self.isValueByte)
    }

    @inline(__always)
    private static func isValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }
}
