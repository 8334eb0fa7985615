public import NIOCore

/// What a static site is asked. The server has already normalized the path with
/// ``RequestTarget/parse(_:)`` and stripped the site's mount prefix.
public struct StaticRequest: Sendable {
    /// `"GET"` and `"HEAD"` are served; other methods get 405 when the path names something.
    public var method: String
    /// Normalized path below the site's mount prefix; starts with `"/"`.
    public var path: String
    /// The full normalized request path, for the `Location` of the trailing-slash redirect.
    public var originalPath: String
    /// Raw query, without `"?"`.
    public var query: String?
    public var headers: StaticRequestHeaders

    public init(
        method: String,
        path: String,
        originalPath: String? = nil,
        query: String? = nil,
        headers: StaticRequestHeaders = StaticRequestHeaders()
    ) {
        self.method = method
        self.path = path
        self.originalPath = originalPath ?? path
        self.query = query
        self.headers = headers
    }
}

/// The request header fields static serving looks at. Values are the raw field values; a
/// field sent several times is one value joined with ", " (RFC 9110 §5.3).
public struct StaticRequestHeaders: Sendable, Equatable {
    /// The precondition and range fields. Most requests carry none of them, and this struct
    /// travels with every request: they are kept out of line, so a copy is one reference (or
    /// none) rather than six strings.
    private struct Conditions: Equatable {
        var ifMatch: String?
        var ifNoneMatch: String?
        var ifModifiedSince: String?
        var ifUnmodifiedSince: String?
        var ifRange: String?
        var range: String?

        static let none = Conditions()
    }

    private final class ConditionsBox: Sendable {
        let conditions: Conditions

        init(_ conditions: Conditions) {
            self.conditions = conditions
        }
    }

    private var box: ConditionsBox?

    private var conditions: Conditions {
        get { self.box?.conditions ?? .none }
        set { self.box = newValue == .none ? nil : ConditionsBox(newValue) }
    }

    public var ifMatch: String? {
        get { self.conditions.ifMatch }
        set { self.conditions.ifMatch = newValue }
    }
    public var ifNoneMatch: String? {
        get { self.conditions.ifNoneMatch }
        set { self.conditions.ifNoneMatch = newValue }
    }
    public var ifModifiedSince: String? {
        get { self.conditions.ifModifiedSince }
        set { self.conditions.ifModifiedSince = newValue }
    }
    public var ifUnmodifiedSince: String? {
        get { self.conditions.ifUnmodifiedSince }
        set { self.conditions.ifUnmodifiedSince = newValue }
    }
    public var ifRange: String? {
        get { self.conditions.ifRange }
        set { self.conditions.ifRange = newValue }
    }
    public var range: String? {
        get { self.conditions.range }
        set { self.conditions.range = newValue }
    }
    public var acceptEncoding: String?

    public init(
        ifMatch: String? = nil,
        ifNoneMatch: String? = nil,
        ifModifiedSince: String? = nil,
        ifUnmodifiedSince: String? = nil,
        ifRange: String? = nil,
        range: String? = nil,
        acceptEncoding: String? = nil
    ) {
        self.conditions = Conditions(
            ifMatch: ifMatch, ifNoneMatch: ifNoneMatch, ifModifiedSince: ifModifiedSince, ifUnmodifiedSince: ifUnmodifiedSince,
            ifRange: ifRange, range: range)
        self.acceptEncoding = acceptEncoding
    }

    public static func == (a: StaticRequestHeaders, b: StaticRequestHeaders) -> Bool {
        a.acceptEncoding == b.acceptEncoding && a.conditions == b.conditions
    }

    /// Picks the relevant fields (names matched case-insensitively) out of a whole header list.
    /// Repeated fields are joined with ", ", which makes repeated singletons (Range, dates)
    /// unparsable and so ignored, as RFC 9110 §5.3 allows.
    public init(fields: some Sequence<(String, String)>) {
        self.init()
        for (name, value) in fields {
            switch name.lowercased() {
            case "if-match": Self.append(value, to: &ifMatch)
            case "if-none-match": Self.append(value, to: &ifNoneMatch)
            case "if-modified-since": Self.append(value, to: &ifModifiedSince)
            case "if-unmodified-since": Self.append(value, to: &ifUnmodifiedSince)
            case "if-range": Self.append(value, to: &ifRange)
            case "range": Self.append(value, to: &range)
            case "accept-encoding": Self.append(value, to: &acceptEncoding)
            default: continue
            }
        }
    }

    /// No precondition and no range: the answer is the whole representation whatever its
    /// validators are.
    public var asksUnconditionally: Bool {
        guard let conditions = self.box?.conditions else { return true }
        return conditions.ifMatch == nil && conditions.ifNoneMatch == nil && conditions.ifModifiedSince == nil
            && conditions.ifUnmodifiedSince == nil && conditions.range == nil
    }

    private static func append(_ value: String, to field: inout String?) {
        field = field.map { $0 + ", " + value } ?? value
    }
}

/// The static layer's answer.
public enum StaticOutcome: Sendable {
    case response(StaticResponse)
    /// No such file, or one that is hidden (dotfile, outside the root, not a regular file):
    /// the server may run a fallback app or send its own 404 page.
    case notFound
}

/// A complete response except for `Date`, `Server` and `Connection`, which the server adds.
public struct StaticResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    /// `.empty` for HEAD (the headers still describe the GET body), 304, 412, 416, 405.
    public var body: StaticBody
    /// `headers` as HTTP/1.1 field lines, when they were prepared ahead (hot files): an
    /// HTTP/1.1 connection then writes them with one copy.
    public var serializedHeaders: ByteBuffer? { prepared?.http1 }
    /// `headers` prepared ahead (a hot file's full response), in every form a protocol sends.
    public var prepared: PreparedFields?
    /// The file in its own representation, on a full response, its HEAD and a 304: what a
    /// compression filter compresses.
    public var variantSource: FileVariantSource?

    public init(status: Int, headers: [(String, String)], body: StaticBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// First value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }
}

/// A response body in the shape NIO writes it: bytes as a `ByteBuffer`, file ranges as a
/// `FileRegion` (sendfile).
public enum StaticBody: Sendable {
    case empty
    case bytes(ByteBuffer)
    /// Write `count` bytes from `offset` of the file. Keep the ``OpenFile`` referenced until the
    /// write has completed: its descriptor is closed when the last reference goes.
    case file(OpenFile, offset: Int64, count: Int64)
    /// `multipart/byteranges` (RFC 9110 §14.6): part headers as bytes, part contents as either.
    case parts([StaticBodyPart])

    /// Number of bytes the body writes (the Content-Length of a GET).
    public var count: Int64 {
        switch self {
        case .empty: return 0
        case .bytes(let buffer): return Int64(buffer.readableBytes)
        case .file(_, _, let count): return count
        case .parts(let parts): return parts.reduce(0) { $0 + $1.count }
        }
    }
}

public enum StaticBodyPart: Sendable {
    case bytes(ByteBuffer)
    case file(OpenFile, offset: Int64, count: Int64)

    public var count: Int64 {
        switch self {
        case .bytes(let buffer): return Int64(buffer.readableBytes)
        case .file(_, _, let count): return count
        }
    }
}
