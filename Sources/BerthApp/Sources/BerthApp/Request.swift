internal import FoundationEssentials

/// One HTTP request as an app sees it. Copies share the same body stream.
public struct Request: Sendable {
    /// An HTTP method (RFC 9110 §9); any token is allowed, the common ones have names.
    public struct Method: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral,
        CustomStringConvertible {
        /// The method as sent, e.g. `GET`; methods are case-sensitive.
        public let rawValue: String

        /// A method from its name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A method from a literal, e.g. `"PROPFIND"`.
        public init(stringLiteral value: String) { self.rawValue = value }

        /// The name.
        public var description: String { rawValue }

        /// `GET`.
        public static let get: Method = "GET"
        /// `HEAD`: answered by a `GET` route unless one is registered; the server drops the body.
        public static let head: Method = "HEAD"
        /// `POST`.
        public static let post: Method = "POST"
        /// `PUT`.
        public static let put: Method = "PUT"
        /// `PATCH`.
        public static let patch: Method = "PATCH"
        /// `DELETE`.
        public static let delete: Method = "DELETE"
        /// `OPTIONS`.
        public static let options: Method = "OPTIONS"
    }

    /// What the server received, shared by every copy: a request is handed through
    /// middleware and routes by value, and one reference is cheaper to copy than ten.
    private final class Received: Sendable {
        let method: Method
        let path: String
        let queryString: String
        let queryItems: QueryItems
        let headers: Headers
        let remoteAddress: String?
        let host: String
        let body: RequestBody

        init(method: Method, path: String, queryString: String, queryItems: QueryItems, headers: Headers,
             remoteAddress: String?, host: String, body: RequestBody) {
            self.method = method
            self.path = path
            self.queryString = queryString
            self.queryItems = queryItems
            self.headers = headers
            self.remoteAddress = remoteAddress
            self.host = host
            self.body = body
        }
    }

    private let received: Received

    /// The method.
    public var method: Method { received.method }
    /// The path of the request target, percent-encoded as received, without the query; the
    /// full path, including the prefix under which the host mounts the app.
    public var path: String { received.path }
    /// The raw query string after `?`, empty when there is none.
    public var queryString: String { received.queryString }
    /// The query string's items, decoded.
    public var queryItems: QueryItems { received.queryItems }
    /// The header fields; lookups ignore case.
    public var headers: Headers { received.headers }
    /// The values of `:name` and `*` segments of the route that matched (see ``Router``).
    public internal(set) var parameters: PathParameters
    /// The client's address (`"203.0.113.7"`, `"[2001:db8::1]"`), when known.
    public var remoteAddress: String? { received.remoteAddress }
    /// The host name the request was addressed to (Host, `:authority` or SNI), without port.
    public var host: String { received.host }
    /// The body, streamed; see ``RequestBody``.
    public var body: RequestBody { received.body }
    /// Typed values middleware stored for the handlers (see ``RequestValueKey``); empty when
    /// the request arrives.
    public var values: RequestValues

    /// The cookies from the `Cookie` header fields.
    public var cookies: Cookies { Cookies(headers: headers) }

    /// Reads the body (at most `limit` bytes) and decodes it as JSON, dates as ISO 8601 strings.
    /// A body that is too long is answered with 413, one that does not decode with 400 naming
    /// what was wrong.
    public func decode<T: Decodable>(as type: T.Type, limit: Int = 1 << 20) async throws -> T {
        let bytes = try await body.collect(upTo: limit)
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw HTTPError(.badRequest, "invalid JSON body: \(Self.describe(error))")
        } catch {
            throw HTTPError(.badRequest, "invalid JSON body")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key \"\(key.stringValue)\"\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.debugDescription + path(context)
        case .dataCorrupted(let context):
            return context.debugDescription + path(context)
        @unknown default:
            return "\(error)"
        }
    }
}

@_spi(BerthServer)
extension Request {
    /// A request built by the server from a parsed HTTP head.
    public init(
        method: Method,
        path: String,
        queryString: String = "",
        headers: Headers,
        remoteAddress: String?,
        host: String,
        body: RequestBody
    ) {
        self.received = Received(
            method: method, path: path, queryString: queryString, queryItems: QueryItems(parsing: queryString), headers: headers,
            remoteAddress: remoteAddress, host: host, body: body)
        self.parameters = PathParameters()
        self.values = RequestValues()
    }
}

/// Values captured by a route: `request.parameters["id"]` for `/notes/:id`, and
/// ``tail`` for the rest of the path under `/files/*`. Values are percent-decoded.
public struct PathParameters: Sendable {
    private var values: [(name: String, value: String)] = []

    init() {}

    /// The value captured for `name` (`"id"` for `:id`; `"*"` or the wildcard's name for a tail).
    public subscript(name: String) -> String? {
        values.last { $0.name == name }?.value
    }

    /// The value of `name` converted to an `Int`, or a 400 answer when it is not a number.
    public func int(_ name: String) throws -> Int {
        guard let text = self[name] else { throw HTTPError(.badRequest, "missing path parameter \(name)") }
        guard let value = Int(text) else { throw HTTPError(.badRequest, "\(name) must be a number, not \(text.debugDescription)") }
        return value
    }

    /// What a wildcard matched, segments joined with `/`; empty when it matched nothing.
    public var tail: String? { self["*"] }

    /// Every captured name and value, in route order.
    public var all: [(name: String, value: String)] { values }

    mutating func append(_ name: String, _ value: String) {
        values.append((name, value))
    }
}
