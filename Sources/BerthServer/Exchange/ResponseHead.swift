import BerthStatic
import Glibc
import NIOCore
import NIOHTTP1

/// A response head with every rule applied, ready for a protocol writer: the handler's fields
/// with the route's configured headers and HSTS laid over them. The writers add only what
/// belongs to their protocol: `Server` and `Date` from `CommonFields`, and on HTTP/1.1 the
/// status line, `Connection` and chunked framing.
struct ResponseHead {
    var status: Int
    /// Every field but `Server` and `Date`.
    var fields: [(String, String)]
    /// The first fields of `fields` as prepared HTTP/1.1 lines and HPACK block (a hot
    /// file's), when nothing laid over them replaced one; writers write these, then the rest
    /// (`unpreparedFields`).
    var prepared: PreparedFields?
    /// The connection ends after this response (HTTP/1.1 writes `Connection: close`).
    var closes: Bool
    /// HTTP/1.1 frames a body of unknown length with chunked coding.
    var chunked: Bool

    /// The fields `prepared` does not cover: all of them without it, else those after its own
    /// (configured headers, HSTS).
    var unpreparedFields: ArraySlice<(String, String)> {
        self.fields[(self.prepared?.fields.count ?? 0)...]
    }
}

/// The one place a response head is assembled, for every protocol and every handler.
enum ResponseHeadBuilder {
    /// - `overrides`: the route's configured headers; each replaces a handler field of the
    ///   same name (compared case-insensitively).
    /// - `hsts`: Strict-Transport-Security, only ever given over TLS (RFC 6797 §7.2).
    /// - A body of unknown length (a stream without `Content-Length`) is chunked on HTTP/1.1;
    ///   HTTP/1.0 has no chunked coding, so there the end of the connection ends the body.
    static func build(
        _ message: ResponseMessage, bodyLength: Int64?, overrides: ConfiguredHeaders, hsts: String?,
        version: HTTPVersion, keepAlive: inout Bool
    ) -> ResponseHead {
        var chunked = false
        if bodyLength == nil, message.status != 204, message.status != 304, message.field("content-length") == nil {
            if version.major == 1 && version.minor == 0 {
                keepAlive = false
            } else if version.major == 1 {
                chunked = true
            }
        }
        var head = ResponseHead(status: message.status, fields: message.fields, closes: !keepAlive, chunked: chunked)
        if overrides.fields.isEmpty && hsts == nil {
            head.prepared = message.prepared
            return head
        }
        // Most answers have no field of a configured name: theirs stay as they are (prepared,
        // for a hot file) and the configured ones follow. Names are compared without copies.
        let replaces = message.fields.contains { field in
            overrides.lowercasedNames.contains { field.0.caseInsensitiveEquals($0) }
                || (hsts != nil && field.0.caseInsensitiveEquals("strict-transport-security"))
        }
        var fields = message.fields
        fields.reserveCapacity(fields.count + overrides.fields.count + 1)
        if replaces {
            fields.removeAll { field in
                overrides.lowercasedNames.contains { field.0.caseInsensitiveEquals($0) }
                    || (hsts != nil && field.0.caseInsensitiveEquals("strict-transport-security"))
            }
        } else {
            head.prepared = message.prepared
        }
        fields.append(contentsOf: overrides.fields)
        if let hsts { fields.append(("Strict-Transport-Security", hsts)) }
        head.fields = fields
        return head
    }
}

/// A route's configured headers (host and path, `headers:`), each replacing a handler's field
/// of the same name. Their names are lowercased once, here, for the comparisons every answer
/// makes.
struct ConfiguredHeaders: Sendable {
    let fields: [(String, String)]
    let lowercasedNames: [String]

    static let none = ConfiguredHeaders([])

    /// A name given twice counts once, with its last value.
    init(_ fields: [(String, String)]) {
        var kept: [(String, String)] = []
        for (name, value) in fields {
            kept.removeAll { $0.0.lowercased() == name.lowercased() }
            kept.append((name, value))
        }
        self.fields = kept
        self.lowercasedNames = kept.map { $0.0.lowercased() }
    }
}

/// `Server` and `Date` (RFC 9110 §10.2.4, §6.6.1), which every response carries: formatted at
/// most once a second per connection, and kept as HTTP/1.1 lines as well.
struct CommonFields {
    let server: String
    private var second = -1
    private(set) var date = ""
    private var lines = ByteBuffer()

    init(server: String) {
        self.server = server
    }

    private mutating func refresh() {
        let now = time(nil)
        guard now != self.second else { return }
        self.second = now
        self.date = HTTPDate.format(now)
        self.lines.clear()
        self.lines.writeStaticString("Server: ")
        self.lines.writeString(self.server)
        self.lines.writeStaticString("\r\nDate: ")
        self.lines.writeString(self.date)
        self.lines.writeStaticString("\r\n")
    }

    /// "Server: …\r\nDate: …\r\n".
    mutating func http1Lines() -> ByteBuffer {
        self.refresh()
        return self.lines
    }

    mutating func currentDate() -> String {
        self.refresh()
        return self.date
    }
}
