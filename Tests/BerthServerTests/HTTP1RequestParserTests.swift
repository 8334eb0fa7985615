import NIOCore
import NIOHTTP1
import Testing

@testable import BerthServer

@Suite("HTTP/1.1 request parser")
struct HTTP1RequestParserTests {
    enum Seen: Equatable {
        case head(method: String, uri: String, minor: Int, fields: [String])
        case body(String)
        case end
    }

    static func parser() -> HTTP1RequestParser {
        HTTP1RequestParser(maxHeaderBytes: 256, maxHeaderCount: 4, maxHeadBytes: 64 + 256 + 1024)
    }

    /// Feeds `chunks` one after the other, as reads from a socket would arrive, and returns
    /// every part with adjacent body pieces joined.
    static func parse(_ chunks: [String]) throws(HTTPParserError) -> [Seen] {
        var parser = Self.parser()
        var buffer = ByteBuffer()
        var seen: [Seen] = []
        for chunk in chunks {
            buffer.writeString(chunk)
            while let part = try parser.next(from: &buffer) {
                switch part {
                case .head(let head):
                    seen.append(.head(
                        method: head.method.rawValue, uri: head.uri, minor: head.version.minor,
                        fields: head.headers.map { "\($0.name)=\($0.value)" }))
                case .body(let bytes):
                    let text = String(buffer: bytes)
                    if case .body(let before) = seen.last {
                        seen[seen.count - 1] = .body(before + text)
                    } else {
                        seen.append(.body(text))
                    }
                case .end:
                    seen.append(.end)
                }
            }
        }
        return seen
    }

    static let pipelined =
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        + "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
        + "HEAD /d HTTP/1.0\r\n\r\n"

    static let expected: [Seen] = [
        .head(method: "GET", uri: "/a", minor: 1, fields: ["Host=x"]), .end,
        .head(method: "POST", uri: "/b", minor: 1, fields: ["Host=x", "Content-Length=5"]), .body("hello"), .end,
        .head(method: "PUT", uri: "/c", minor: 1, fields: ["Host=x", "Transfer-Encoding=chunked"]), .body("abcde"), .end,
        .head(method: "HEAD", uri: "/d", minor: 0, fields: []), .end,
    ]

    @Test func pipelinedRequestsInOneRead() throws {
        #expect(try Self.parse([Self.pipelined]) == Self.expected)
    }

    @Test func everySplitPointGivesTheSameParts() throws {
        let bytes = Array(Self.pipelined.utf8)
        for split in 1..<bytes.count {
            let first = String(decoding: bytes[..<split], as: UTF8.self)
            let second = String(decoding: bytes[split...], as: UTF8.self)
            #expect(try Self.parse([first, second]) == Self.expected, "split at \(split)")
        }
        // And one byte at a time.
        #expect(try Self.parse(Self.pipelined.map { String($0) }) == Self.expected)
    }

    @Test func fieldValuesAreTrimmedAndBareLineFeedsAccepted() throws {
        let seen = try Self.parse(["\r\nGET /x HTTP/1.1\nHost:  a \t\nX-Empty:\n\n"])
        #expect(seen == [.head(method: "GET", uri: "/x", minor: 1, fields: ["Host=a", "X-Empty="]), .end])
    }

    @Test func unknownMethodsAreTokens() throws {
        #expect(try Self.parse(["PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n"]).first == .head(method: "PURGE", uri: "/x", minor: 1, fields: ["Host=a"]))
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n", HTTPParserError.invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHost: a\u{0}b\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHost: a\u{1}b\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", .lfExpected),
        ("GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux\rx86_64)\r\n\r\n", .lfExpected),
        ("GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\u{1B}[0m\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\u{7F}\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", .invalidHeaderToken),
        ("GET / HTTP/2.0\r\n\r\n", .invalidVersion),
        ("GET / HTTP/1.1 \r\n\r\n", .invalidConstant),
        ("GET / HTTX/1.1\r\n\r\n", .invalidConstant),
        ("GET  / HTTP/1.1\r\n\r\n", .invalidURL),
        ("GET /a b HTTP/1.1\r\n\r\n", .invalidConstant),
        ("G(T / HTTP/1.1\r\n\r\n", .invalidMethod),
        (" GET / HTTP/1.1\r\n\r\n", .invalidMethod),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", .invalidChunkSize),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", .invalidChunkSize),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", .invalidChunkSize),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", .invalidChunkSize),
    ])
    func malformedInputIsAnError(input: String, error: HTTPParserError) {
        #expect(throws: error) { try Self.parse([input]) }
    }

    @Test func headLimits() {
        let many = (0..<5).map { "X-\($0): v\r\n" }.joined()
        #expect(throws: HTTPParserError.headerOverflow) { try Self.parse(["GET / HTTP/1.1\r\n\(many)\r\n"]) }
        let big = "X: " + String(repeating: "v", count: 300)
        #expect(throws: HTTPParserError.headerOverflow) { try Self.parse(["GET / HTTP/1.1\r\n\(big)\r\n\r\n"]) }
        // An unfinished head is refused once it cannot fit any more, without waiting for its end.
        #expect(throws: HTTPParserError.headerOverflow) { try Self.parse(["GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 2000)]) }
        #expect(throws: Never.self) { try Self.parse(["GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 200)]) }
    }

    /// Framing the server cannot follow: the head goes up (for `RequestHeadCheck` to refuse),
    /// and nothing after it is parsed, however request-like.
    @Test(arguments: [
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    ])
    func unusableFramingStopsTheStream(head: String) throws {
        let seen = try Self.parse([head + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"])
        #expect(seen.count == 1)
        guard case .head = seen.first else {
            Issue.record("expected only the head, got \(seen)")
            return
        }
    }

    /// Keep-alive is read from the Connection fields while the head is parsed: the same
    /// decisions as NIO's search of the parsed fields, for every case here.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nHost: x\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nconnection:  Upgrade , CLOSE \r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\t\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: upgrade\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nConnection: keep-alive, keep-alive\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: closed, keep-alives\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nConnection: ,,\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nConnection:\r\n\r\n", true),
    ])
    func keepAliveFromTheConnectionFields(request: String, keepsAlive: Bool) throws {
        var parser = Self.parser()
        var buffer = ByteBuffer(string: request)
        guard case .head(let head) = try parser.next(from: &buffer) else {
            Issue.record("no head in \(request.debugDescription)")
            return
        }
        #expect(parser.keepsAlive == keepsAlive)
        #expect(parser.keepsAlive == head.isKeepAlive)
    }
}
