import Foundation
@_spi(BerthServer) import BerthApp

extension AppTestClient {
    /// Opens a WebSocket to the app: sends the `GET` handshake request the server would pass
    /// on (RFC 6455 §4.1) and, when the app answers with ``Response/webSocket(_:)`` (or a
    /// ``Router/webSocket(_:use:)`` route matched), runs its handler in this process with the
    /// same ``WebSocket`` type the server hands it.
    ///
    /// ```swift
    /// let socket = try await client.webSocket("/ws/echo")
    /// try await socket.send(.text("hi"))
    /// #expect(try await socket.receive() == .text("hi"))
    /// await socket.close()
    /// ```
    ///
    /// The server's handshake checks and the frame protocol (masking, fragments, ping) are not
    /// simulated; what the app sees and sends is. Throws ``AppTestClientError/notAWebSocket(_:)``
    /// with the app's answer when it did not accept.
    public func webSocket(_ target: String, headers: KeyValuePairs<String, String> = [:]) async throws -> TestWebSocket {
        var fields = headers.map { (name: $0.key, value: $0.value) }
        // What a browser sends (the key is RFC 6455 §1.3's sample); the server checks these
        // fields once the app accepted, and answers 400 or 426 instead when they are wrong.
        fields += [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"),
                   ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]
        let request = try makeRequest(.get, target, fields: fields, body: .empty)
        guard let app = running else { throw AppTestClientError.notAWebSocket(try await send(.get, target)) }
        let outcome = await app.answer(request)
        guard case .upgrade(let upgrade) = outcome.response.body else {
            throw AppTestClientError.notAWebSocket(TestResponse(outcome: outcome, method: .get))
        }
        return TestWebSocket(handler: upgrade.handler, route: outcome.route)
    }
}
