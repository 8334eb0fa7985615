import BerthStatic
import NIOCore

/// A response as handlers and filters build it, the same for every protocol. Framing and the
/// fields every response gets (`Server`, `Date`, configured headers, HSTS, `Connection`) are
/// not in it: `ResponseHeadBuilder` adds those, and a protocol writer turns the result into
/// HTTP/1.1 bytes or an HPACK block.
struct ResponseMessage {
    var status: Int
    /// The handler's fields, `Content-Length` included when the body's size is known. Any
    /// change drops the prepared forms below, so they never say something else.
    var fields: [(String, String)] {
        didSet {
            self.prepared = nil
        }
    }
    /// `fields` as HTTP/1.1 field lines and as an HPACK block (`HPACKPreparedFields`),
    /// prepared once per open file for hot static responses.
    private(set) var prepared: PreparedFields?
    var body: ResponseBody
    /// Berth writes the body (a refusal, a missing route, a timeout, a redirect): the host's
    /// page for the status when one is configured, else the built-in one. A handler's own 404
    /// keeps its body unless a custom page is configured.
    var usesServerPage = false

    init(status: Int, fields: [(String, String)], body: ResponseBody, prepared: PreparedFields? = nil) {
        self.status = status
        self.fields = fields
        self.body = body
        self.prepared = prepared
    }

    /// Takes the static answer's parts over rather than copying them: this runs for every
    /// static response, and a copy costs a retain and a release per part.
    init(_ response: consuming StaticResponse) {
        // Each stored property is set once, without delegating to the other initializer: that
        // way made two copies of the whole message.
        self.status = response.status
        self.fields = []
        swap(&self.fields, &response.headers)
        self.prepared = response.prepared.take()
        var body = StaticBody.empty
        swap(&body, &response.body)
        self.body = ResponseBody(body)
        self.variantSource = response.variantSource.take()
        self.conditionsEvaluated = true
    }

    /// The file a static answer is about, for the compression filter (see `FileVariantSource`).
    var variantSource: FileVariantSource?

    /// Whether conditional requests and ranges were already evaluated (static files are, by
    /// the site that knows their representations).
    var conditionsEvaluated = false

    /// An answer whose body Berth writes; the error-page filter supplies it.
    static func page(_ status: Int, fields: [(String, String)] = []) -> ResponseMessage {
        var message = ResponseMessage(status: status, fields: fields, body: .empty)
        message.usesServerPage = true
        return message
    }

    /// `prepared`'s fields in place of these, with their prepared forms.
    mutating func use(_ prepared: PreparedFields) {
        self.fields = prepared.fields
        self.prepared = prepared
    }

    /// First value of the field `name` (a lowercase literal).
    func field(_ name: String) -> String? {
        self.fields.first { $0.0.caseInsensitiveEquals(name) }?.1
    }

    mutating func removeFields(where predicate: (String) -> Bool) {
        self.fields.removeAll { predicate($0.0) }
    }
}

/// What follows a response head.
enum ResponseBody {
    case empty
    case bytes(ByteBuffer)
    /// `count` bytes from `offset` of an open file: sendfile on plain connections.
    case file(OpenFile, offset: Int64, count: Int64)
    /// `multipart/byteranges`: part headers as bytes, part contents from memory or a file.
    case parts([StaticBodyPart])
    /// Produced while it is sent (an app's stream); its length is known only if the handler
    /// set `Content-Length`.
    case stream(ResponseStream)

    init(_ body: StaticBody) {
        switch body {
        case .empty: self = .empty
        case .bytes(let buffer): self = .bytes(buffer)
        case .file(let file, let offset, let count): self = .file(file, offset: offset, count: count)
        case .parts(let parts): self = .parts(parts)
        }
    }

    /// The same body with the segments of files held in memory as those bytes: for a
    /// connection that would read a file to send it (TLS, HTTP/2) rather than `sendfile` it.
    var heldInMemory: ResponseBody {
        switch self {
        case .file(let file, let offset, let count):
            guard let bytes = file.bytes(offset: offset, count: count) else { return self }
            return .bytes(bytes)
        case .parts(let parts):
            return .parts(parts.map { part in
                guard case .file(let file, let offset, let count) = part, let bytes = file.bytes(offset: offset, count: count) else { return part }
                return .bytes(bytes)
            })
        case .empty, .bytes, .stream:
            return self
        }
    }

    /// Whether any of the body is sent from an open file (a file region).
    var readsFromFile: Bool {
        switch self {
        case .file: return true
        case .parts(let parts): return parts.contains { if case .file = $0 { return true } else { return false } }
        case .empty, .bytes, .stream: return false
        }
    }

    /// Bytes a fixed body writes; nil for a stream.
    var count: Int64? {
        switch self {
        case .empty: return 0
        case .bytes(let buffer): return Int64(buffer.readableBytes)
        case .file(_, _, let count): return count
        case .parts(let parts): return parts.reduce(0) { $0 + $1.count }
        case .stream: return nil
        }
    }
}

/// A body produced after its head went out. `start` is called once, on the event loop, with a
/// sink that takes chunks in order; the producer finishes or fails it exactly once.
struct ResponseStream {
    let start: (ResponseStreamSink) -> Void
}

/// Where a streamed body's chunks go. Every call is made on the exchange's event loop.
protocol ResponseStreamSink: AnyObject {
    /// Writes one chunk; the future completes once the transport took it, so a producer that
    /// waits for it cannot queue more than one chunk per connection.
    func write(_ chunk: ByteBuffer) -> EventLoopFuture<Void>
    func finish()
    /// The body cannot be completed: the client must see a cut-off response, not a short one.
    func fail(_ error: Error)
}
