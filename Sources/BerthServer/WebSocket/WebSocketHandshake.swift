import FoundationEssentials
import BerthConfig
import NIOHTTP1

/// The server's half of the opening handshake (RFC 6455 §4.2), decided on the request head of
/// a route whose app answered with a WebSocket: accept with 101, or say what is wrong.
enum WebSocketHandshake {
    enum Verdict: Equatable {
        /// Switch protocols with these fields (`Upgrade`, `Connection`, `Sec-WebSocket-Accept`).
        case accept(fields: [(String, String)])
        /// Answer `status` with `fields`; the route exists but this request cannot use it.
        case refuse(status: Int, fields: [(String, String)])

        static func == (lhs: Verdict, rhs: Verdict) -> Bool {
            switch (lhs, rhs) {
            case (.accept(let a), .accept(let b)): return a.elementsEqual(b, by: ==)
            case (.refuse(let s, let a), .refuse(let t, let b)): return s == t && a.elementsEqual(b, by: ==)
            default: return false
            }
        }
    }

    /// RFC 6455 §4.1: appended to the client's key before hashing.
    static let acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The one version RFC 6455 defines.
    static let version = "13"

    /// What a client that can upgrade must send: 426 carries it (RFC 9110 §15.5.22 requires
    /// `Upgrade`; RFC 6455 §4.4 the versions the server speaks).
    static let upgradeRequired: [(String, String)] = [
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", version),
    ]

    /// `bodyFollows`: the request announced a body (a handshake has none).
    static func check(_ head: HTTPRequestHead, bodyFollows: Bool) -> Verdict {
        // §4.2.1 (1): an HTTP/1.1 GET. HTTP/2 has no Upgrade (RFC 9113 §8.2.2) and Berth does
        // not offer RFC 8441's extended CONNECT, so an h2 client is told to use HTTP/1.1.
        if head.version.major == 2 {
            return .refuse(status: 426, fields: [])
        }
        guard head.method == .GET else {
            return .refuse(status: 405, fields: [("Allow", "GET")])
        }
        guard head.version.major == 1, head.version.minor >= 1 else {
            return .refuse(status: 400, fields: [])
        }
        // §4.2.1 (3): no Upgrade to websocket means a plain request reached a WebSocket route.
        guard Self.hasToken("websocket", in: head.headers[canonicalForm: "upgrade"]) else {
            return .refuse(status: 426, fields: upgradeRequired)
        }
        // §4.2.1 (4), and a handshake carries no body.
        guard Self.hasToken("upgrade", in: head.headers[canonicalForm: "connection"]), !bodyFollows else {
            return .refuse(status: 400, fields: [])
        }
        // §4.2.1 (6), §4.4: another version gets the one this server speaks.
        let versions = head.headers["sec-websocket-version"]
        guard versions.count == 1, let offered = versions.first else {
            return .refuse(status: 400, fields: [])
        }
        guard offered.trimmingSpaces() == version else {
            return .refuse(status: 426, fields: upgradeRequired)
        }
        // §4.2.1 (5): a base64-encoded 16-byte nonce.
        let keys = head.headers["sec-websocket-key"]
        guard keys.count == 1, let key = keys.first.map({ String($0.trimmingSpaces()) }),
              let nonce = Data(base64Encoded: key), nonce.count == 16
        else {
            return .refuse(status: 400, fields: [])
        }
        return .accept(fields: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept(key: key))])
    }

    /// §4.2.2 (5.4): base64 of the SHA-1 of the key and the GUID.
    static func accept(key: String) -> String {
        Data(SHA1.hash(Array((key + acceptGUID).utf8))).base64EncodedString()
    }

    private static func hasToken(_ token: String, in values: [Substring]) -> Bool {
        values.contains { String($0.trimmingSpaces()).caseInsensitiveEquals(token) }
    }
}
