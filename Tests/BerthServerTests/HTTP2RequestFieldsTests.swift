import NIOHPACK
import NIOHTTP1
import Testing

@testable import BerthServer

@Suite("HTTP/2 request fields (RFC 9113 §8.2, §8.3)")
struct HTTP2RequestFieldsTests {
    let base = [(":method", "GET"), (":scheme", "https"), (":path", "/a?b=c"), (":authority", "Example.test")]

    func request(_ fields: [(String, String)]) throws(HTTP2StreamError) -> HTTP2RequestFields.Request {
        try HTTP2RequestFields.request(from: HPACKHeaders(fields), streamID: 7)
    }

    func isMalformed(_ fields: [(String, String)]) -> Bool {
        do throws(HTTP2StreamError) {
            _ = try self.request(fields)
            return false
        } catch {
            return error == HTTP2StreamError(streamID: 7, .protocolError)
        }
    }

    @Test func headFromPseudoFields() throws {
        let request = try self.request(self.base + [("accept", "*/*"), ("content-length", "12")])
        #expect(request.head.version == .http2)
        #expect(request.head.method == .GET)
        #expect(request.head.uri == "/a?b=c")
        #expect(request.head.headers["host"] == ["Example.test"])
        #expect(request.head.headers["accept"] == ["*/*"])
        #expect(request.contentLength == 12)
        #expect(!request.head.headers.contains(name: ":path"))
    }

    @Test func hostFieldIsKeptAndMustAgreeWithAuthority() throws {
        let request = try self.request(self.base + [("host", "example.test")])
        #expect(request.head.headers["host"] == ["example.test"])
        #expect(self.isMalformed(self.base + [("host", "other.test")]))
        // Without :authority, host alone is fine.
        let hostOnly = try self.request([(":method", "GET"), (":scheme", "https"), (":path", "/"), ("host", "h.test")])
        #expect(hostOnly.head.headers["host"] == ["h.test"])
    }

    @Test func cookiesAreJoined() throws {
        let request = try self.request(self.base + [("cookie", "a=1"), ("accept", "x"), ("cookie", "b=2")])
        #expect(request.head.headers["cookie"] == ["a=1; b=2"])
    }

    @Test func pseudoFieldRules() {
        let method = (":method", "GET"), scheme = (":scheme", "https"), path = (":path", "/")
        #expect(!self.isMalformed([method, scheme, path]))
        // Each exactly once.
        #expect(self.isMalformed([scheme, path]))
        #expect(self.isMalformed([method, path]))
        #expect(self.isMalformed([method, scheme]))
        #expect(self.isMalformed([method, method, scheme, path]))
        #expect(self.isMalformed([method, scheme, path, path]))
        #expect(self.isMalformed([method, scheme, path, (":authority", "a"), (":authority", "a")]))
        // Non-empty path, absolute or "*" for OPTIONS.
        #expect(self.isMalformed([method, scheme, (":path", "")]))
        #expect(self.isMalformed([method, scheme, (":path", "a/b")]))
        #expect(self.isMalformed([method, scheme, (":path", "*")]))
        #expect(!self.isMalformed([(":method", "OPTIONS"), scheme, (":path", "*")]))
        // Before regular fields.
        #expect(self.isMalformed([method, scheme, ("accept", "x"), path]))
        // No unknown or response pseudo-fields.
        #expect(self.isMalformed([method, scheme, path, (":status", "200")]))
        #expect(self.isMalformed([method, scheme, path, (":protocol", "websocket")]))
        #expect(self.isMalformed([method, scheme, path, (":Path", "/")]))
        #expect(self.isMalformed([method, scheme, path, (":", "/")]))
        // CONNECT is not offered.
        #expect(self.isMalformed([(":method", "CONNECT"), (":authority", "a:443")]))
        #expect(self.isMalformed([(":method", "CONNECT"), scheme, path, (":authority", "a:443")]))
        #expect(self.isMalformed([(":method", "G T"), scheme, path]))
    }

    @Test func regularFieldRules() {
        // No uppercase, no connection-specific fields, te only "trailers".
        #expect(self.isMalformed(self.base + [("Accept", "x")]))
        for name in ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"] {
            #expect(self.isMalformed(self.base + [(name, "x")]), "\(name)")
        }
        #expect(!self.isMalformed(self.base + [("te", "trailers")]))
        #expect(self.isMalformed(self.base + [("te", "gzip")]))
        #expect(self.isMalformed(self.base + [("te", "trailers, deflate")]))
        // §8.2.1: characters in names and values.
        #expect(self.isMalformed(self.base + [("a b", "x")]))
        #expect(self.isMalformed(self.base + [("a:b", "x")]))
        #expect(self.isMalformed(self.base + [("", "x")]))
        #expect(self.isMalformed(self.base + [("x\u{7f}", "x")]))
        #expect(self.isMalformed(self.base + [("caf\u{e9}", "x")]))
        #expect(self.isMalformed(self.base + [("x", "a ")]))
        #expect(!self.isMalformed(self.base + [("x-~!#$%&'*+.^_`|", "\u{e9}")]))
        #expect(self.isMalformed(self.base + [("x", "a\r\nb: c")]))
        #expect(self.isMalformed(self.base + [("x", "a\0")]))
        #expect(self.isMalformed(self.base + [("x", " a")]))
        #expect(self.isMalformed(self.base + [("x", "a\t")]))
        #expect(!self.isMalformed(self.base + [("x", "a b"), ("y", "")]))
    }

    @Test func contentLengthMustBeOneNumber() throws {
        #expect(try self.request(self.base).contentLength == nil)
        #expect(try self.request(self.base + [("content-length", "5"), ("content-length", "5")]).contentLength == 5)
        #expect(self.isMalformed(self.base + [("content-length", "5"), ("content-length", "6")]))
        #expect(self.isMalformed(self.base + [("content-length", "-1")]))
        #expect(self.isMalformed(self.base + [("content-length", "5, 5")]))
        #expect(self.isMalformed(self.base + [("content-length", "99999999999999999999")]))
    }

    @Test func trailersHoldNoPseudoFields() throws {
        try HTTP2RequestFields.checkTrailers(HPACKHeaders([("x-checksum", "abc")]), streamID: 1)
        #expect(throws: HTTP2StreamError(streamID: 1, .protocolError)) {
            try HTTP2RequestFields.checkTrailers(HPACKHeaders([(":path", "/")]), streamID: 1)
        }
    }
}
