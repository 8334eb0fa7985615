import BerthStatic
import NIOHTTP1

/// The framing and sanity rules of RFC 9112 that the parser leaves to the server, applied
/// to a parsed request head before anything is routed. A plain function of the head and
/// the limits, so every rule is testable without a connection.
struct RequestHeadCheck {
    struct Accepted: Equatable {
        var target: RequestTarget
        /// Absolute-form authority wins over Host (RFC 9112 §3.2.2).
        var authority: String?
        var expectsContinue: Bool
        var expectsBody: Bool
        /// The conditional, range and Accept-Encoding fields, gathered in the same pass.
        var fields: StaticRequestHeaders
    }

    struct Rejected: Equatable, Error {
        var status: HTTPResponseStatus
        var reason: String
        /// Framing errors leave the rest of the stream unparseable: the connection must close.
        var mustClose: Bool
    }

    static func check(_ head: HTTPRequestHead, limits: ConnectionLimits) -> Result<Accepted, Rejected> {
        if head.uri.utf8.count > limits.uriBytes {
            return .failure(.init(status: .uriTooLong, reason: "request target longer than \(limits.uriBytes) bytes", mustClose: true))
        }

        // HTTP/1.1's parser bounds a head's fields as it reads them; an HTTP/2 field block
        // (already bounded by SETTINGS_MAX_HEADER_LIST_SIZE) is measured here, the same way.
        if head.version.major == 2, let rejected = Self.checkFieldSizes(head.headers, limits: limits) {
            return .failure(rejected)
        }

        // RFC 9112 §3.2: 400 for a 1.1 request without Host, or with more than one.
        let fields = FramingFields(head.headers)
        if fields.host.count > 1 {
            return .failure(.init(status: .badRequest, reason: "more than one Host header", mustClose: true))
        }
        if fields.host.count == 0 && head.version.minor >= 1 {
            return .failure(.init(status: .badRequest, reason: "HTTP/1.1 request without Host", mustClose: true))
        }
        if let host = fields.host.first, !Self.isValidHost(host) {
            return .failure(.init(status: .badRequest, reason: "invalid Host header", mustClose: true))
        }

        // RFC 9112 §6.3: Content-Length with Transfer-Encoding, several or malformed lengths
        // are request smuggling vectors; refuse and close.
        let codings = fields.transferEncodings
        if fields.contentLength.count > 0 && !codings.isEmpty {
            return .failure(.init(status: .badRequest, reason: "Content-Length together with Transfer-Encoding", mustClose: true))
        }
        if fields.contentLength.count > 1 {
            return .failure(.init(status: .badRequest, reason: "more than one Content-Length", mustClose: true))
        }
        var contentLength = 0
        if let length = fields.contentLength.first {
            guard !length.isEmpty, length.utf8.count <= 18, length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(length)
            else {
                return .failure(.init(status: .badRequest, reason: "invalid Content-Length", mustClose: true))
            }
            contentLength = value
        }
        var chunked = false
        if !codings.isEmpty {
            // HTTP/2 requests arrive as version 2.0; the HTTP/2 codec itself marks a body of
            // unknown length as chunked.
            if head.version == .http1_0 {
                return .failure(.init(status: .badRequest, reason: "Transfer-Encoding in an HTTP/1.0 request", mustClose: true))
            }
            // One field whose value is `chunked` (ASCII case-insensitive), the framing
            // `HTTP1RequestParser` follows: a list it would not follow (",chunked", a second
            // field) must be refused here, or the request waits for a body the parser drops.
            guard codings.count == 1, String(codings[0].trimmingSpaces()).caseInsensitiveEquals("chunked") else {
                return .failure(.init(status: .notImplemented, reason: "unsupported Transfer-Encoding", mustClose: true))
            }
            chunked = true
        }
        if contentLength > limits.bodyBytes {
            return .failure(.init(status: .payloadTooLarge, reason: "body larger than \(limits.bodyBytes) bytes", mustClose: true))
        }

        var expectsContinue = false
        if let expectation = fields.expect.first {
            guard fields.expect.count == 1, expectation.trimmingSpaces().lowercased() == "100-continue" else {
                return .failure(.init(status: .expectationFailed, reason: "unsupported Expect", mustClose: true))
            }
            expectsContinue = head.version != .http1_0
        }

        let target: RequestTarget
        switch RequestTarget.parse(head.uri) {
        case .success(let parsed): target = parsed
        case .failure(let error):
            return .failure(.init(status: .badRequest, reason: "bad request target (\(error))", mustClose: false))
        }
        let expectsBody = chunked || contentLength > 0
        return .success(.init(
            target: target,
            authority: target.authority ?? fields.host.first,
            expectsContinue: expectsContinue && expectsBody,
            expectsBody: expectsBody,
            fields: fields.representation
        ))
    }

    /// The sizes HTTP/1.1 would see: each field as `name: value\r\n`. Pseudo-fields (RFC 9113
    /// §8.3) stand for the request line, which `uri_bytes` bounds.
    static func checkFieldSizes(_ headers: HTTPHeaders, limits: ConnectionLimits) -> Rejected? {
        var bytes = 0
        for (name, value) in headers { bytes += name.utf8.count + value.utf8.count + 4 }
        guard headers.count > limits.headerCount || bytes > limits.headerBytes else { return nil }
        return Rejected(status: .requestHeaderFieldsTooLarge, reason: "header fields over the limits", mustClose: false)
    }

    /// RFC 3986 reg-name / IP-literal characters plus a port; anything else (spaces, slashes,
    /// control bytes) is an invalid Host field value.
    static func isValidHost(_ host: String) -> Bool {
        // Every request's Host goes through here: a test per byte, in place.
        if let valid = host.utf8.withContiguousStorageIfAvailable({ bytes in bytes.allSatisfy(Self.isHostByte) }) {
            return valid
        }
        return host.utf8.allSatisfy(Self.isHostByte)
    }

    /// A function rather than a table: a global table is reached through a lazy-initialization
    /// check on every use, and the compiler turns this switch into a few range tests.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "$"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }
}

/// The fields that decide framing and routing, gathered in one pass over the head (the
/// head of every request goes through here). Each keeps its first value and how many times it
/// occurred: a repeat is an error for all of them, so later values are never needed. The
/// fields static files and compression look at are collected on the way.
struct FramingFields {
    struct Field {
        var first: String?
        var count = 0

        mutating func add(_ value: String) {
            if self.count == 0 { self.first = value }
            self.count += 1
        }
    }

    var host = Field()
    var contentLength = Field()
    var transferEncodings: [String] = []
    var expect = Field()
    var representation = StaticRequestHeaders()

    init(_ headers: HTTPHeaders) {
        for (name, value) in headers {
            switch name.utf8.count {
            case 4 where name.caseInsensitiveEquals("host"): self.host.add(value)
            case 6 where name.caseInsensitiveEquals("expect"): self.expect.add(value)
            case 14 where name.caseInsensitiveEquals("content-length"): self.contentLength.add(value)
            // Several Transfer-Encoding lines form one list (RFC 9110 §5.3).
            case 17 where name.caseInsensitiveEquals("transfer-encoding"): self.transferEncodings.append(value)
            default: self.representation.take(name, value)
            }
        }
    }
}
