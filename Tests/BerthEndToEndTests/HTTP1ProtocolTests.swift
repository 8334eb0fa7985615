import Foundation
import Testing

@Suite("HTTP/1.1 semantics and hostile input")
struct HTTP1ProtocolTests {
    @Test func keepAliveAndPipeliningAnswerInOrder() throws {
        let berth = try SiteFixture.start()
        let connection = try RawConnection(port: berth.port)
        try connection.send(
            "GET / HTTP/1.1\r\nHost: alpha.test\r\n\r\n" + "GET / HTTP/1.1\r\nHost: beta.test\r\n\r\n"
                + "HEAD /digits.txt HTTP/1.1\r\nHost: alpha.test\r\n\r\n" + "GET /css/style.css HTTP/1.1\r\nHost: alpha.test\r\n\r\n")
        #expect(try connection.readResponse().text.contains("Alpha"))
        #expect(try connection.readResponse().text.contains("Beta"))
        #expect(try connection.readResponse(isHeadRequest: true).header("content-length") == "1000")
        #expect(try connection.readResponse().text == "body { color: teal; }")
        // Still open: another request on the same connection.
        try connection.send("GET / HTTP/1.1\r\nHost: beta.test\r\n\r\n")
        #expect(try connection.readResponse().status == 200)
    }

    /// Complete responses go to the socket directly; when it is full (a client that reads
    /// slowly), what it did not take waits in NIO's queue, and the responses behind it must
    /// wait there too. Pipelined answers of every body form (a file sent whole or in part by
    /// `sendfile`, bytes behind their head or after it) reach a client with a small receive
    /// window, which reads only once it sent every request, whole and in order.
    @Test func responsesToASlowReaderStayWholeAndInOrder() throws {
        let sizes = [2 * 1024 * 1024, 20_000, 900, 48_000, 2 * 1024 * 1024 + 7, 0]
        var files: [String: String] = [:]
        for (index, size) in sizes.enumerated() { files["site/\(index).txt"] = Self.numbered(size, seed: index) }
        let berth = try BerthProcess(yaml: """
            listen:
              - { address: 127.0.0.1, port: 0 }
            threads: 1
            logs: { error: stderr, access: off }
            hosts:
              local.test:
                default: true
                static: site
            """, files: files)
        let connection = try RawConnection(port: berth.port, timeout: 30, receiveBuffer: 4096)
        try connection.send(sizes.indices.map { "GET /\($0).txt HTTP/1.1\r\nHost: local.test\r\n\r\n" }.joined())
        for (index, size) in sizes.enumerated() {
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.body.count == size, "response \(index)")
            #expect(response.text == Self.numbered(size, seed: index), "response \(index)")
        }
        // The queue drained: the connection answers as before.
        try connection.send("GET /2.txt HTTP/1.1\r\nHost: local.test\r\n\r\n")
        #expect(try connection.readResponse().text == Self.numbered(900, seed: 2))
    }

    /// `size` bytes of numbered lines, different for each `seed`: a body cut, doubled or
    /// swapped with another shows.
    private static func numbered(_ size: Int, seed: Int) -> String {
        var text = ""
        text.reserveCapacity(size + 32)
        var line = 0
        while text.utf8.count < size {
            text += "\(seed)-\(line)\n"
            line += 1
        }
        return String(text.utf8.prefix(size))!
    }

    @Test func connectionCloseAndHTTP10() throws {
        let berth = try SiteFixture.start()
        let closing = try RawConnection(port: berth.port)
        try closing.send("GET / HTTP/1.1\r\nHost: beta.test\r\nConnection: close\r\n\r\n")
        #expect(try closing.readResponse().header("connection") == "close")
        #expect(closing.isClosedByPeer())

        let old = try RawConnection(port: berth.port)
        try old.send("GET / HTTP/1.0\r\n\r\n")
        let response = try old.readResponse()
        #expect(response.status == 200)
        #expect(response.text.contains("Default"))
        #expect(old.isClosedByPeer())

        let keepAlive = try RawConnection(port: berth.port)
        try keepAlive.send("GET / HTTP/1.0\r\nHost: beta.test\r\nConnection: keep-alive\r\n\r\n")
        #expect(try keepAlive.readResponse().header("connection")?.lowercased() == "keep-alive")
        try keepAlive.send("GET / HTTP/1.0\r\nHost: beta.test\r\n\r\n")
        #expect(try keepAlive.readResponse().status == 200)
    }

    @Test func absoluteFormTargetChoosesTheHost() throws {
        let berth = try SiteFixture.start()
        let response = try berth.raw("GET http://beta.test/index.html HTTP/1.1\r\nHost: alpha.test\r\nConnection: close\r\n\r\n")
        #expect(response.text == "<h1>Beta</h1>")
    }

    @Test func chunkedRequestBodyIsReadAndConnectionKept() throws {
        let berth = try SiteFixture.start()
        let connection = try RawConnection(port: berth.port)
        try connection.send(
            "POST / HTTP/1.1\r\nHost: beta.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                + "GET / HTTP/1.1\r\nHost: beta.test\r\n\r\n")
        #expect(try connection.readResponse().status == 405)
        #expect(try connection.readResponse().text == "<h1>Beta</h1>")
    }

    @Test func expectContinueGetsAFinalAnswer() throws {
        let berth = try SiteFixture.start()
        let connection = try RawConnection(port: berth.port)
        try connection.send("PUT /x HTTP/1.1\r\nHost: beta.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let response = try connection.readResponse()
        #expect(response.status == 405)
        let odd = try berth.raw("GET / HTTP/1.1\r\nHost: beta.test\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx")
        #expect(odd.status == 417)
    }

    /// Each of these must be a 400 (or the named status) followed by a closed connection.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Space : value\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-Nul: a\u{0}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a\r\nX-CR: a\rb\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        ("GET / HTTP/3.1\r\nHost: a\r\n\r\n", 505),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ])
    func hostileRequestsAreRefusedAndClosed(request: String, status: Int) throws {
        let berth = try SiteFixture.start()
        let connection = try RawConnection(port: berth.port)
        try connection.send(request)
        let response = try connection.readResponse()
        #expect(response.status == status, "\(request.debugDescription)")
        #expect(connection.isClosedByPeer(), "\(request.debugDescription) left the connection open")
        // And the server is still serving.
        #expect(try berth.request("/", host: "beta.test").status == 200)
    }
}
