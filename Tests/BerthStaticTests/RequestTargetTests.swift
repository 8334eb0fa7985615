import Testing

@testable import BerthStatic

@Suite struct RequestTargetTests {
    private func path(_ raw: String) -> String? {
        try? RequestTarget.parse(raw).get().path
    }

    private func error(_ raw: String) -> RequestTargetError? {
        if case .failure(let error) = RequestTarget.parse(raw) { return error }
        return nil
    }

    @Test func originFormKeepsQueryRaw() throws {
        let target = try RequestTarget.parse("/a/b%20c?x=%41&y=/../").get()
        #expect(target == RequestTarget(path: "/a/b c", query: "x=%41&y=/../", authority: nil))
        #expect(try RequestTarget.parse("/?").get().query == "")
        #expect(try RequestTarget.parse("/a").get().query == nil)
    }

    @Test func absoluteForm() throws {
        #expect(
            try RequestTarget.parse("http://example.com:8080/a/./b?q=1").get()
                == RequestTarget(path: "/a/b", query: "q=1", authority: "example.com:8080")
        )
        #expect(try RequestTarget.parse("HTTPS://Example.com").get() == RequestTarget(path: "/", authority: "Example.com"))
        #expect(try RequestTarget.parse("http://h?x").get() == RequestTarget(path: "/", query: "x", authority: "h"))
        #expect(error("ftp://h/a") == .notOriginForm)
        #expect(error("http:///a") == .notOriginForm)
        #expect(error("http://user@h/a") == .notOriginForm)
    }

    @Test func refusesAsteriskAndGarbage() {
        #expect(error("*") == .notOriginForm)
        #expect(error("example.com:443") == .notOriginForm)
        #expect(error("a/b") == .notOriginForm)
        #expect(error("") == .empty)
    }

    @Test func removesDotSegmentsAndEmptySegments() {
        #expect(path("/a/./b/../c") == "/a/c")
        #expect(path("//a///b//") == "/a/b/")
        #expect(path("/a/b/..") == "/a/")
        #expect(path("/a/.") == "/a/")
        #expect(path("/a/..") == "/")
        #expect(path("/.") == "/")
        #expect(path("/") == "/")
        #expect(path("/a/b/") == "/a/b/")
        #expect(path("/a...b/..c/c..") == "/a...b/..c/c..")
    }

    @Test func dotDotAboveRootInAnyEncoding() {
        for raw in ["/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/%2E%2E", "/.%2e/x", "/%2e./x", "/%2E.", "/a/%2e%2E/%2e%2e"] {
            #expect(error(raw) == .escapesRoot, "\(raw)")
        }
        #expect(path("/a/%2e%2e/b") == "/b")
        #expect(path("/a/%2E/b") == "/a/b")
    }

    @Test func decodesExactlyOnce() {
        // "%252e%252e" is the literal name "%2e%2e": harmless, and not decoded again.
        #expect(path("/%252e%252e/x") == "/%2e%2e/x")
        #expect(path("/%252fetc") == "/%2fetc")
        #expect(path("/caf%C3%A9") == "/café")
        #expect(path("/café") == "/café")
    }

    @Test func encodedSlashIsASeparator() {
        #expect(path("/a%2Fb") == "/a/b")
        #expect(path("/a%2f..%2f..%2fb") == nil)
        #expect(error("/a%2f..%2f..%2fb") == .escapesRoot)
    }

    @Test func badPercentEncoding() {
        for raw in ["/%", "/%4", "/%zz", "/a%g0", "/%C3", "/%FF", "/%C0%AE%C0%AE"] {
            #expect(error(raw) == .badPercentEncoding, "\(raw)")
        }
    }

    @Test func nulBackslashAndControlCharacters() {
        #expect(error("/a%00b") == .nulByte)
        #expect(error("/a\\b") == .backslash)
        #expect(error("/a%5Cb") == .backslash)
        #expect(error("/a%5c..%5cb") == .backslash)
        #expect(error("/a%0Ab") == .controlCharacter)
        #expect(error("/a%7f") == .controlCharacter)
        #expect(error("/a\tb") == .controlCharacter)
        #expect(error("/a?q=\u{7F}") == .controlCharacter)
    }

    @Test func fragmentIsDropped() throws {
        #expect(try RequestTarget.parse("/a#frag?x").get() == RequestTarget(path: "/a"))
    }
}
