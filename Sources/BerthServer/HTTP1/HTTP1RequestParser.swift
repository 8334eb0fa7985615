#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import BerthStatic
import NIOCore
import NIOHTTP1

/// The request side of HTTP/1.1 (RFC 9112) as a plain state machine over bytes: heads,
/// then bodies framed by Content-Length or chunked coding. No I/O, so every rule is testable
/// on its own; `HTTP1Connection` feeds it from the socket.
///
/// It is strict where leniency lets two parsers disagree about where a request ends (request
/// smuggling): a bare CR, obs-fold, whitespace before the colon, control bytes in a field, a
/// malformed chunk size are errors. The framing rules that need the whole head (several
/// Content-Length fields, Content-Length with Transfer-Encoding, codings other than chunked)
/// are `RequestHeadCheck`'s; such a head is delivered for it to refuse, and nothing after it
/// is ever parsed.
struct HTTP1RequestParser {
    enum Part {
        case head(HTTPRequestHead)
        case body(ByteBuffer)
        case end
    }

    private enum State {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case bodyEnd
        /// The framing of the last head was unusable: everything after it is dropped.
        case unframed
    }

    /// Bytes of header fields (after the request line) and their number: 431 beyond either.
    let maxHeaderBytes: Int
    let maxHeaderCount: Int
    /// An unfinished head longer than this is refused without waiting for its end.
    let maxHeadBytes: Int
    private var state = State.head
    /// Whether the connection stays open after the last head's request, by its version and
    /// Connection fields (RFC 9112 §9.3); read while the head was parsed.
    private(set) var keepsAlive = true

    init(maxHeaderBytes: Int, maxHeaderCount: Int, maxHeadBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxHeadBytes = maxHeadBytes
    }

    /// Between requests: no part of one has been returned yet.
    var isBetweenRequests: Bool {
        if case .head = self.state { return true }
        return false
    }

    /// A head was returned and body bytes are still to come.
    var isReadingBody: Bool {
        switch self.state {
        case .fixedBody, .chunkSize, .chunkData, .chunkDataEnd, .trailers: return true
        case .head, .bodyEnd, .unframed: return false
        }
    }

    /// The next part of the request stream, consuming its bytes from `buffer`; nil when
    /// `buffer` does not hold a whole part yet (body bytes are returned as they come).
    mutating func next(from buffer: inout ByteBuffer) throws(HTTPParserError) -> Part? {
        while true {
            switch self.state {
            case .head:
                guard let (head, framing, connection) = try Self.parseHead(from: &buffer, limits: self) else { return nil }
                self.keepsAlive = connection.keepsAlive(head.version)
                switch framing {
                case .none: self.state = .bodyEnd
                case .length(let length): self.state = length == 0 ? .bodyEnd : .fixedBody(remaining: length)
                case .chunked: self.state = .chunkSize
                case .unusable: self.state = .unframed
                }
                return .head(head)

            case .fixedBody(let remaining):
                guard let (slice, left) = Self.bodySlice(from: &buffer, remaining: remaining) else { return nil }
                self.state = left == 0 ? .bodyEnd : .fixedBody(remaining: left)
                return .body(slice)

            case .chunkSize:
                guard let line = try Self.readLine(from: &buffer, limit: 1024, tooLong: .invalidChunkSize) else { return nil }
                let size = try Self.chunkSize(line)
                self.state = size == 0 ? .trailers : .chunkData(remaining: size)

            case .chunkData(let remaining):
                guard let (slice, left) = Self.bodySlice(from: &buffer, remaining: remaining) else { return nil }
                self.state = left == 0 ? .chunkDataEnd : .chunkData(remaining: left)
                return .body(slice)

            case .chunkDataEnd:
                guard let line = try Self.readLine(from: &buffer, limit: 2, tooLong: .invalidChunkSize) else { return nil }
                guard line.readableBytes == 0 else { throw .invalidChunkSize }
                self.state = .chunkSize

            case .trailers:
                // Trailer fields are read and dropped: nothing here acts on them.
                guard let line = try Self.readLine(from: &buffer, limit: self.maxHeaderBytes, tooLong: .headerOverflow) else { return nil }
                if line.readableBytes == 0 { self.state = .bodyEnd }

            case .bodyEnd:
                self.state = .head
                return .end

            case .unframed:
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                return nil
            }
        }
    }

    /// Up to `remaining` body bytes, as a slice (no copy), and how many are still to come.
    private static func bodySlice(from buffer: inout ByteBuffer, remaining: Int) -> (ByteBuffer, left: Int)? {
        guard buffer.readableBytes > 0 else { return nil }
        let count = min(remaining, buffer.readableBytes)
        return (buffer.readSlice(length: count)!, remaining - count)
    }

    // MARK: - Lines

    /// One line without its end (CRLF, or a bare LF as RFC 9112 §2.2 allows); nil while no
    /// line end is buffered. A CR anywhere else is an error.
    private static func readLine(from buffer: inout ByteBuffer, limit: Int, tooLong: HTTPParserError) throws(HTTPParserError) -> ByteBuffer? {
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            bytes.firstIndex(of: UInt8(ascii: "\n"))
        }
        guard let lineFeed = found else {
            if buffer.readableBytes > limit + 1 { throw tooLong }
            return nil
        }
        var line = buffer.readSlice(length: lineFeed + 1)!
        line.moveWriterIndex(to: line.writerIndex - 1)
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        if line.readableBytesView.contains(UInt8(ascii: "\r")) { throw .lfExpected }
        if line.readableBytes > limit { throw tooLong }
        return line
    }

    /// chunk-size [ chunk-ext ]: hex digits, then optional extensions, which are ignored.
    private static func chunkSize(_ line: ByteBuffer) throws(HTTPParserError) -> Int {
        var size = 0
        var digits = 0
        for byte in line.readableBytesView {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A") + 10)
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw .invalidChunkSize }
                return size
            default:
                throw .invalidChunkSize
            }
            digits += 1
            // 15 hex digits stay below Int.max; more is no body anyone sends.
            guard digits <= 15 else { throw .invalidChunkSize }
            size = size << 4 | value
        }
        guard digits > 0 else { throw .invalidChunkSize }
        return size
    }

    // MARK: - Heads

    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        /// Unknown codings, several or invalid lengths: the head is refused by
        /// `RequestHeadCheck` and the stream cannot be followed past it.
        case unusable
    }

    /// Parses a complete head at the start of `buffer` and consumes it; nil (consuming
    /// nothing) while its end has not arrived.
    static func parseHead(from buffer: inout ByteBuffer, limits: HTTP1RequestParser) throws(HTTPParserError) -> (HTTPRequestHead, Framing, ConnectionOption)? {
        let result: Result<(HTTPRequestHead, Framing, ConnectionOption, consumed: Int)?, HTTPParserError> = buffer.withUnsafeReadableBytes { bytes in
            do throws(HTTPParserError) {
                return .success(try Self.parseHead(bytes, limits: limits))
            } catch {
                return .failure(error)
            }
        }
        guard let parsed = try result.get() else { return nil }
        buffer.moveReaderIndex(forwardBy: parsed.consumed)
        return (parsed.0, parsed.1, parsed.2)
    }

    private static func parseHead(_ bytes: UnsafeRawBufferPointer, limits: HTTP1RequestParser) throws(HTTPParserError) -> (HTTPRequestHead, Framing, ConnectionOption, consumed: Int)? {
        var position = 0
        // RFC 9112 §2.2: empty lines before a request line are ignored.
        while position < bytes.count, bytes[position] == UInt8(ascii: "\r") || bytes[position] == UInt8(ascii: "\n") {
            if bytes[position] == UInt8(ascii: "\r") {
                guard position + 1 < bytes.count else { return nil }
                guard bytes[position + 1] == UInt8(ascii: "\n") else { throw .lfExpected }
                position += 2
            } else {
                position += 1
            }
        }
        guard let requestLine = try Self.line(in: bytes, from: position) else {
            if bytes.count > limits.maxHeadBytes { throw .headerOverflow }
            return nil
        }
        let (method, uri, version) = try Self.requestLine(bytes, requestLine.range)
        position = requestLine.next

        // A browser sends about a dozen fields: room for them at once, not four regrowths.
        var fields: [(String, String)] = []
        fields.reserveCapacity(12)
        var fieldBytes = 0
        var framing = Framing.none
        var lengths = 0
        var codings = 0
        var connection = ConnectionOption()
        while true {
            guard let line = try Self.line(in: bytes, from: position) else {
                if bytes.count > limits.maxHeadBytes { throw .headerOverflow }
                return nil
            }
            position = line.next
            if line.range.isEmpty { break }
            fieldBytes += line.range.count + 2
            if fieldBytes > limits.maxHeaderBytes || fields.count >= limits.maxHeaderCount { throw .headerOverflow }
            let (name, value) = try Self.field(bytes, line.range)
            fields.append((name, value))
            switch name.utf8.count {
            case 10 where name.caseInsensitiveEquals("connection"):
                connection.read(value)
            case 14 where name.caseInsensitiveEquals("content-length"):
                lengths += 1
                if lengths == 1, let length = Self.contentLength(value) { framing = .length(length) } else { framing = .unusable }
            case 17 where name.caseInsensitiveEquals("transfer-encoding"):
                codings += 1
                framing = codings == 1 && String(value.trimmingSpaces()).caseInsensitiveEquals("chunked") ? .chunked : .unusable
            default:
                break
            }
        }
        if lengths > 0 && codings > 0 { framing = .unusable }
        let head = HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(fields))
        return (head, framing, connection, position)
    }

    /// The line starting at `start`: its bytes without the line end, and where the next
    /// begins; nil while its end is not buffered. The ends are found with `memchr`, which
    /// reads a word at a time: heads are scanned for them byte by byte otherwise.
    private static func line(in bytes: UnsafeRawBufferPointer, from start: Int) throws(HTTPParserError) -> (range: Range<Int>, next: Int)? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        let lineFeed = Self.index(of: UInt8(ascii: "\n"), in: base, from: start, to: bytes.count)
        // A CR only directly before the LF: anywhere else it is a bare CR, refused.
        let carriageReturn = Self.index(of: UInt8(ascii: "\r"), in: base, from: start, to: lineFeed ?? bytes.count)
        guard let lineFeed else {
            // A CR that is the last byte buffered may yet be followed by its LF.
            if let carriageReturn, carriageReturn + 1 < bytes.count { throw .lfExpected }
            return nil
        }
        guard let carriageReturn else { return (start..<lineFeed, lineFeed + 1) }
        guard carriageReturn == lineFeed - 1 else { throw .lfExpected }
        return (start..<carriageReturn, lineFeed + 1)
    }

    private static func index(of byte: UInt8, in base: UnsafeRawPointer, from start: Int, to end: Int) -> Int? {
        guard start < end, let found = memchr(base + start, Int32(byte), end - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// method SP request-target SP HTTP-version (RFC 9112 §3).
    private static func requestLine(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParserError) -> (HTTPMethod, String, HTTPVersion) {
        var index = range.lowerBound
        while index < range.upperBound, FieldSyntax.isTokenByte(bytes[index]) { index += 1 }
        let methodEnd = index
        guard methodEnd > range.lowerBound, methodEnd < range.upperBound, bytes[methodEnd] == UInt8(ascii: " ") else {
            throw .invalidMethod
        }
        index += 1
        let targetStart = index
        while index < range.upperBound, bytes[index] > 0x20, bytes[index] != 0x7F { index += 1 }
        let targetEnd = index
        guard targetEnd > targetStart, targetEnd < range.upperBound, bytes[targetEnd] == UInt8(ascii: " ") else {
            throw .invalidURL
        }
        let version = try Self.version(UnsafeRawBufferPointer(rebasing: bytes[(targetEnd + 1)..<range.upperBound]))
        let method = HTTPMethod(rawValue: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<methodEnd]), as: UTF8.self))
        let uri = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self)
        return (method, uri, version)
    }

    /// "HTTP/" DIGIT "." DIGIT. Malformed is a bad request (400); a major version other than
    /// 1 is well-formed but not spoken here (`invalidVersion`, 505).
    private static func version(_ bytes: UnsafeRawBufferPointer) throws(HTTPParserError) -> HTTPVersion {
        guard bytes.count == 8, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
            bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/"), bytes[6] == UInt8(ascii: "."),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[5]), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[7])
        else { throw .invalidConstant }
        let major = Int(bytes[5] - UInt8(ascii: "0"))
        let minor = Int(bytes[7] - UInt8(ascii: "0"))
        guard major == 1 else { throw .invalidVersion }
        return HTTPVersion(major: 1, minor: minor)
    }

    /// field-name ":" OWS field-value OWS (RFC 9112 §5).
    private static func field(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParserError) -> (String, String) {
        var index = range.lowerBound
        // A line starting with whitespace is obs-fold (§5.2), and whitespace before the colon
        // is forbidden (§5.1): both fall out of the token rule.
        while index < range.upperBound, FieldSyntax.isTokenByte(bytes[index]) { index += 1 }
        guard index > range.lowerBound, index < range.upperBound, bytes[index] == UInt8(ascii: ":") else {
            throw .invalidHeaderToken
        }
        let nameEnd = index
        index += 1
        var valueStart = index
        var valueEnd = range.upperBound
        while valueStart < valueEnd, bytes[valueStart] == UInt8(ascii: " ") || bytes[valueStart] == UInt8(ascii: "\t") { valueStart += 1 }
        while valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: " ") || bytes[valueEnd - 1] == UInt8(ascii: "\t") { valueEnd -= 1 }
        // VCHAR, SP, HTAB and obs-text; NUL, CR, LF and other controls are refused.
        guard FieldSyntax.isSafeValue(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])) else { throw .invalidHeaderToken }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<nameEnd]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
        return (name, value)
    }

    /// 1*DIGIT, bounded so it fits an Int; anything else leaves the body unframed.
    private static func contentLength(_ value: String) -> Int? {
        guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(value)
    }
}

/// What a request's Connection fields say (RFC 9112 §9.3), gathered while its head is parsed
/// rather than by searching its fields again. `close` wins; a `keep-alive` after another option
/// is contradictory and closes, as NIO's `HTTPHeaders.isKeepAlive` decides.
struct ConnectionOption {
    private enum Said { case nothing, close, keepAlive }
    private var said = Said.nothing

    /// One Connection field's value: a comma-separated list of options.
    mutating func read(_ value: String) {
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                let option = UnsafeBufferPointer(rebasing: bytes[bytes.trimmingBlanks(start..<end)])
                if Self.equals(option, "close") {
                    self.said = .close
                } else if Self.equals(option, "keep-alive") {
                    self.said = self.said == .nothing ? .keepAlive : .close
                }
                start = end + 1
            }
        }
    }

    /// Without either option, HTTP/1.1 keeps the connection and HTTP/1.0 closes it.
    func keepsAlive(_ version: HTTPVersion) -> Bool {
        switch self.said {
        case .close: return false
        case .keepAlive: return true
        case .nothing: return version.major == 1 && version.minor >= 1
        }
    }

    private static func equals(_ option: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        option.count == lowercase.utf8CodeUnitCount
            && lowercase.withUTF8Buffer { String.asciiLowercaseEquals(option, $0) }
    }
}
