import NIOHTTP1
import Testing

@testable import BerthServer

@Suite("The WebSocket opening handshake (RFC 6455 §4.2)")
struct WebSocketHandshakeTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    func head(_ fields: [(String, String)], method: HTTPMethod = .GET, version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: method, uri: "/ws", headers: HTTPHeaders([("Host", "example.test")] + fields))
    }

    var valid: [(String, String)] {
        [("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade"), ("Sec-WebSocket-Key", Self.key),
         ("Sec-WebSocket-Version", "13")]
    }

    /// The example of RFC 6455 §1.3.
    @Test func theAcceptValueIsTheRFCsExample() {
        #expect(WebSocketHandshake.accept(key: Self.key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(SHA1.hash(Array("abc".utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func aValidHandshakeIsAccepted() {
        #expect(WebSocketHandshake.check(head(valid), bodyFollows: false) == .accept(fields: [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ]))
        // Field values are case-insensitive tokens.
        let shouting = [("Upgrade", "WebSocket"), ("Connection", "UPGRADE"), ("Sec-WebSocket-Key", Self.key), ("Sec-WebSocket-Version", "13")]
        #expect(WebSocketHandshake.check(head(shouting), bodyFollows: false) != .refuse(status: 400, fields: []))
    }

    @Test func aPlainRequestToAWebSocketRouteGets426WithUpgrade() {
        #expect(WebSocketHandshake.check(head([]), bodyFollows: false) == .refuse(status: 426, fields: WebSocketHandshake.upgradeRequired))
    }

    @Test func anotherVersionGets426NamingVersion13() {
        var fields = valid
        fields[3] = ("Sec-WebSocket-Version", "8")
        #expect(WebSocketHandshake.check(head(fields), bodyFollows: false) == .refuse(status: 426, fields: WebSocketHandshake.upgradeRequired))
    }

    @Test func malformedHandshakesGet400() {
        for drop in [1, 2, 3] {
            var fields = valid
            fields.remove(at: drop)
            #expect(WebSocketHandshake.check(head(fields), bodyFollows: false) == .refuse(status: 400, fields: []), "without \(valid[drop].0)")
        }
        for key in ["short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZSEh"] {
            var fields = valid
            fields[2] = ("Sec-WebSocket-Key", key)
            #expect(WebSocketHandshake.check(head(fields), bodyFollows: false) == .refuse(status: 400, fields: []), "key \(key)")
        }
        #expect(WebSocketHandshake.check(head(valid), bodyFollows: true) == .refuse(status: 400, fields: []))
        #expect(WebSocketHandshake.check(head(valid, version: .http1_0), bodyFollows: false) == .refuse(status: 400, fields: []))
    }

    @Test func otherMethodsAndHTTP2AreRefused() {
        #expect(WebSocketHandshake.check(head(valid, method: .POST), bodyFollows: false) == .refuse(status: 405, fields: [("Allow", "GET")]))
        #expect(WebSocketHandshake.check(head([], version: HTTPVersion(major: 2, minor: 0)), bodyFollows: false) == .refuse(status: 426, fields: []))
    }
}
