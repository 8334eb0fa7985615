internal import FoundationEssentials

/// An app's answer: a status, header fields and a body.
///
/// The server adds `Date`, `Content-Length` or chunked framing, and for ``Body/file(_:)`` ranges
/// and conditional requests; an app sets only what is about its content.
public struct Response: Sendable {
    /// An HTTP status code (RFC 9110 §15) with its reason phrase.
    public struct Status: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
        /// The three-digit code.
        public let code: Int
        /// The reason phrase sent after the code in HTTP/1.1.
        public let reasonPhrase: String

        /// A status from a code; known codes get their standard reason phrase.
        public init(code: Int, reasonPhrase: String? = nil) {
            precondition((100...999).contains(code), "an HTTP status code has three digits, not \(code)")
            self.code = code
            self.reasonPhrase = reasonPhrase ?? Status.phrases[code] ?? ""
        }

        /// A status from a literal, e.g. `418`.
        public init(integerLiteral code: Int) { self.init(code: code) }

        /// `"404 Not Found"`.
        public var description: String { reasonPhrase.isEmpty ? "\(code)" : "\(code) \(reasonPhrase)" }

        /// Equal when the codes are equal.
        public static func == (lhs: Status, rhs: Status) -> Bool { lhs.code == rhs.code }
        /// Hashes the code.
        public func hash(into hasher: inout Hasher) { hasher.combine(code) }

        /// 200 OK.
        public static let ok = Status(code: 200)
        /// 201 Created.
        public static let created = Status(code: 201)
        /// 202 Accepted.
        public static let accepted = Status(code: 202)
        /// 204 No Content.
        public static let noContent = Status(code: 204)
        /// 301 Moved Permanently.
        public static let movedPermanently = Status(code: 301)
        /// 302 Found.
        public static let found = Status(code: 302)
        /// 303 See Other.
        public static let seeOther = Status(code: 303)
        /// 304 Not Modified.
        public static let notModified = Status(code: 304)
        /// 307 Temporary Redirect.
        public static let temporaryRedirect = Status(code: 307)
        /// 308 Permanent Redirect.
        public static let permanentRedirect = Status(code: 308)
        /// 400 Bad Request.
        public static let badRequest = Status(code: 400)
        /// 401 Unauthorized.
        public static let unauthorized = Status(code: 401)
        /// 403 Forbidden.
        public static let forbidden = Status(code: 403)
        /// 404 Not Found.
        public static let notFound = Status(code: 404)
        /// 405 Method Not Allowed.
        public static let methodNotAllowed = Status(code: 405)
        /// 409 Conflict.
        public static let conflict = Status(code: 409)
        /// 413 Content Too Large.
        public static let contentTooLarge = Status(code: 413)
        /// 415 Unsupported Media Type.
        public static let unsupportedMediaType = Status(code: 415)
        /// 422 Unprocessable Content.
        public static let unprocessableContent = Status(code: 422)
        /// 429 Too Many Requests.
        public static let tooManyRequests = Status(code: 429)
        /// 500 Internal Server Error.
        public static let internalServerError = Status(code: 500)
        /// 503 Service Unavailable.
        public static let serviceUnavailable = Status(code: 503)

        private static let phrases: [Int: String] = [
            100: "Continue", 101: "Switching Protocols",
            200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
            204: "No Content", 205: "Reset Content", 206: "Partial Content",
            300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
            304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
            400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
            408: "Request Timeout", 409: "Conflict", 410: "Gone", 411: "Length Required",
            412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long",
            415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
            421: "Misdirected Request", 422: "Unprocessable Content", 425: "Too Early",
            426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
            431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
            500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
        ]
    }

    /// What follows the header fields.
    public enum Body: Sendable {
        /// No body.
        case empty
        /// Bytes already in memory.
        case bytes([UInt8])
        /// Bytes produced while the response is sent; the closure writes chunks in order and
        /// returns when done. Set `Content-Length` yourself if you know it; otherwise the
        /// server frames the body as it goes.
        case stream(@Sendable (ResponseBodyWriter) async throws -> Void)
        /// A file the server sends like a static one (sendfile, ranges, conditional requests,
        /// MIME type from the extension unless `Content-Type` is set). An absolute path.
        case file(String)
        /// A switch to another protocol: ``Body/webSocket(_:)``.
        case upgrade(WebSocketUpgrade)
    }

    /// The status.
    public var status: Status
    /// The header fields; values containing CR or LF are refused (see ``Headers``).
    public var headers: Headers
    /// The body.
    public var body: Body

    /// A response; with no arguments, an empty 200.
    public init(status: Status = .ok, headers: Headers = Headers(), body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Plain text, `text/plain; charset=utf-8`.
    public static func text(_ text: String, status: Status = .ok) -> Response {
        Response(status: status, headers: Headers([("Content-Type", "text/plain; charset=utf-8")]),
                 body: .bytes(Array(text.utf8)))
    }

    /// An HTML document, `text/html; charset=utf-8`.
    public static func html(_ html: String, status: Status = .ok) -> Response {
        Response(status: status, headers: Headers([("Content-Type", "text/html; charset=utf-8")]),
                 body: .bytes(Array(html.utf8)))
    }

    /// A value encoded as JSON, `application/json`, dates as ISO 8601 strings and keys sorted
    /// so the same value always gives the same bytes (cacheable, diffable).
    public static func json<T: Encodable>(_ value: T, status: Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: Headers([("Content-Type", "application/json")]),
                        body: .bytes(Array(data)))
    }

    /// A redirect to `location` (a URL or an absolute path), 302 Found unless told otherwise
    /// (use 303 after a form post, 307/308 to keep the method).
    public static func redirect(to location: String, status: Status = .found) -> Response {
        Response(status: status, headers: Headers([("Location", location)]))
    }

    /// Adds a `Set-Cookie` field (RFC 6265 §4.1). A cookie whose name, value, path or domain
    /// could inject attributes or fields is refused like an invalid header.
    public mutating func setCookie(_ cookie: SetCookie) {
        if let problem = cookie.problem {
            headers.refuse(problem)
        } else {
            headers.add(name: "Set-Cookie", value: cookie.headerValue)
        }
    }
}

/// Where a streamed body goes: each `write` sends a chunk and returns when the client may take
/// more, so a fast producer waits for a slow client.
public struct ResponseBodyWriter: Sendable {
    private let sink: @Sendable ([UInt8]) async throws -> Void

    /// Sends one chunk; throws when the client went away, which should end the stream.
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await sink(bytes)
    }

    /// Sends text as UTF-8.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }
}

@_spi(BerthServer)
extension ResponseBodyWriter {
    /// A writer that hands each chunk to the server's connection.
    public init(_ sink: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.sink = sink
    }
}

/// A cookie to set on the client (RFC 6265 §4.1.1).
public struct SetCookie: Sendable {
    /// The `SameSite` attribute.
    public enum SameSite: String, Sendable {
        /// Sent on same-site requests only.
        case strict = "Strict"
        /// Also sent on top-level navigations from other sites (browsers' default).
        case lax = "Lax"
        /// Sent on every request; requires `secure`.
        case none = "None"
    }

    /// The cookie's name.
    public var name: String
    /// The cookie's value.
    public var value: String
    /// The path it applies to; `/` by default.
    public var path: String?
    /// The domain it applies to; the request's host when nil.
    public var domain: String?
    /// Seconds until it expires; 0 deletes it; nil makes a session cookie.
    public var maxAge: Int?
    /// Only sent over HTTPS.
    public var secure: Bool
    /// Hidden from JavaScript.
    public var httpOnly: Bool
    /// Cross-site policy.
    public var sameSite: SameSite?

    /// A cookie with safe defaults: path `/`, HttpOnly, SameSite=Lax.
    public init(
        name: String, value: String, path: String? = "/", domain: String? = nil, maxAge: Int? = nil,
        secure: Bool = false, httpOnly: Bool = true, sameSite: SameSite? = .lax
    ) {
        self.name = name
        self.value = value
        self.path = path
        self.domain = domain
        self.maxAge = maxAge
        self.secure = secure
        self.httpOnly = httpOnly
        self.sameSite = sameSite
    }

    /// Why the cookie cannot be sent as written, or nil.
    var problem: String? {
        if name.isEmpty || !name.utf8.allSatisfy(Headers.isTokenByte) {
            return "cookie name \(name.debugDescription) was refused: a name must be a token"
        }
        // RFC 6265 §4.1.1 cookie-octet: no controls, whitespace, DQUOTE, comma, semicolon, backslash.
        let isCookieOctet: (UInt8) -> Bool = { byte in
            byte == 0x21 || (0x23...0x2B).contains(byte) || (0x2D...0x3A).contains(byte)
                || (0x3C...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
        }
        if !value.utf8.allSatisfy(isCookieOctet) {
            return "cookie \(name) was refused: its value contains a character a cookie cannot carry (percent-encode it)"
        }
        for attribute in [path, domain].compactMap({ $0 }) where attribute.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: ";") }) {
            return "cookie \(name) was refused: its path or domain \(attribute.debugDescription) contains ';' or a control character"
        }
        return nil
    }

    /// The `Set-Cookie` field value.
    var headerValue: String {
        var parts = ["\(name)=\(value)"]
        if let path { parts.append("Path=\(path)") }
        if let domain { parts.append("Domain=\(domain)") }
        if let maxAge { parts.append("Max-Age=\(maxAge)") }
        if secure { parts.append("Secure") }
        if httpOnly { parts.append("HttpOnly") }
        if let sameSite { parts.append("SameSite=\(sameSite.rawValue)") }
        return parts.joined(separator: "; ")
    }
}

@_spi(BerthServer)
extension Response {
    /// The response's parts in one call, its fields as name-value pairs with room for `extra`
    /// more. This library is built with library evolution, so each property of a response,
    /// and each field's name and value, would otherwise be a call and a copy of its own for the
    /// server, on every app response.
    public func parts(reservingExtra extra: Int) -> (status: Int, fields: [(String, String)], body: Body) {
        (status.code, headers.pairs(reservingExtra: extra), body)
    }
}
