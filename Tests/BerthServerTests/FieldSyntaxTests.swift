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
}
