/// A value a route handler can return: the router turns it into the ``Response`` it stands for.
///
/// ``Response`` itself and `String` (plain text, `text/plain; charset=utf-8`) conform. A handler
/// may also return any `Encodable` value, which is answered as JSON (`application/json`, see
/// ``Response/json(_:status:)``) without conforming to anything:
///
/// ```swift
/// router.get("/hello/:name") { request in "Hello, \(request.parameters["name"] ?? "")!" }
/// router.get("/api/notes") { _ in try await store.all() }        // [Note], as JSON
/// router.post("/api/notes") { request in try .json(note, status: .created) }
/// ```
///
/// Conform a type of your own when it knows how to answer, say a page rendered from a template;
/// a type that is both `Encodable` and `ResponseConvertible` answers through this protocol.
public protocol ResponseConvertible: SendableMetatype {
    /// The response for this value, as the answer to `request` (which a type may consult, for
    /// content negotiation). Throwing works as it does in a handler.
    func response(for request: Request) throws -> Response
}

extension Response: ResponseConvertible {
    /// The response itself.
    public func response(for request: Request) throws -> Response { self }
}

extension String: ResponseConvertible {
    /// The string as plain text, `text/plain; charset=utf-8`, status 200.
    public func response(for request: Request) throws -> Response { .text(self) }
}
