import Testing

@testable import BerthServer

@Suite("Field syntax")
struct FieldSyntaxTests {
    @Test func tokenBytesAreExactlyTheRulesCharacters() {
        // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
        //         "|" / "~" / DIGIT / ALPHA  (RFC 9110 §5.6.2)
        let letters = Array(UInt8(ascii: "a")...UInt8(ascii: "z")) + Array(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        let digits = Array(UInt8(ascii: "0")...UInt8(ascii: "9"))
        let allowed = Set(letters + digits + Array(FieldSyntax.tokenPunctuation.utf8))
        #expect(FieldSyntax.tokenPunctuation == "!#$%&'*+-.^_`|~")
        for byte in UInt8.min...UInt8.max {
            #expect(FieldSyntax.isTokenByte(byte) == allowed.contains(byte), "byte \(byte)")
        }
    }

    @Test func namesAndValues() {
        #expect(FieldSyntax.isToken("X-Request-Id"))
        #expect(FieldSyntax.isToken("GET"))
        #expect(!FieldSyntax.isToken(""))
        #expect(!FieldSyntax.isToken("Bad Name"))
        #expect(!FieldSyntax.isToken("Name:"))
        #expect(!FieldSyntax.isToken("Ünïcode"))
        #expect(FieldSyntax.isSafeValue("text/plain; charset=utf-8"))
        #expect(FieldSyntax.isSafeValue("a\tb"))
        #expect(FieldSyntax.isSafeValue(""))
        #expect(FieldSyntax.isSafeValue("café"))
        #expect(!FieldSyntax.isSafeValue("a\r\nSet-Cookie: x=1"))
        #expect(!FieldSyntax.isSafeValue("a\u{0}b"))
        #expect(!FieldSyntax.isSafeValue("a\u{7F}"))
        #expect(FieldSyntax.isSafeField(name: "X-Request-Id", value: "r-1"))
        #expect(!FieldSyntax.isSafeField(name: "X-Request-Id\r\nSet-Cookie", value: "x=1"))
    }

    /// Values are checked eight bytes at a time: every byte, at every place in a word and in
    /// the tail after the last whole word, is judged as the bytewise rule judges it.
    @Test func valuesCheckedWordwiseAgreeWithTheRule() {
        for byte in UInt8.min...UInt8.max {
            let allowed = byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
            for length in [1, 7, 8, 9, 16, 21] {
                for position in 0..<length {
                    var value = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    value[position] = byte
                    #expect(value.withUnsafeBytes { FieldSyntax.isSafeValue($0) } == allowed, "byte \(byte) at \(position) of \(length)")
                }
            }
        }
        let obsText = Array("Ünïcödé välüés ärë öbs-tëxt".utf8)
        #expect(obsText.withUnsafeBytes { FieldSyntax.isSafeValue($0) })
    }
}
