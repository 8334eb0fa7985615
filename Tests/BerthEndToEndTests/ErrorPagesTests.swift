import Foundation
import Testing

/// The host's custom pages for every status Berth produces: answers of handlers, of routing,
/// and of the connection guards that refuse input before it is a request.
@Suite("Error pages for every status Berth answers")
struct ErrorPagesTests {
    static let statuses = [400, 404, 405, 408, 413, 414, 421, 431]

    static func start() throws -> BerthProcess {
        let certificate = try TestCertificates.make(["pages.test"])
        var files = ["site/index.html": "<h1>Pages</h1>"]
        for status in statuses { files["pages/\(status).html"] = "<p>custom \(status)</p>" }
        let errors = statuses.map { "\($0): pages/\($0).html" }.joined(separator: ", ")
        let yaml = """
            listen:
              - { address: 127.0.0.1, port: 0 }
              - { address: 127.0.0.1, port: 0, tls: true }
            threads: 2
            logs: { error: stderr, access: access.log }
            limits: { body_bytes: 1KiB, header_bytes: 2KiB, header_count: 20, uri_bytes: 1KiB, header_timeout: 1s, body_timeout: 1s }
            hosts:
              pages.test:
                default: true
                tls: { certificate: \(certificate.certificate), key: \(certificate.key) }
                errors: { \(errors) }
                static: site
            """
        return try BerthProcess(yaml: yaml, files: files)
    }

    @Test(arguments: Transport.allCases)
    func refusalsAndRoutingAnswersGetTheHostsPages(over transport: Transport) throws {
        let berth = try Self.start()
        func expectPage(_ response: CurlResponse, _ status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(response.status == status, "\(response)", sourceLocation: sourceLocation)
            #expect(response.text == "<p>custom \(status)</p>", "\(response)", sourceLocation: sourceLocation)
            #expect(response.header("content-type") == "text/html; charset=utf-8", sourceLocation: sourceLocation)
        }
        expectPage(try berth.curl("/missing", host: "pages.test", over: transport), 404)
        expectPage(try berth.curl("/", host: "pages.test", over: transport, method: "DELETE"), 405)
        expectPage(try berth.curl("/", host: "pages.test", over: transport, method: "POST", body: Data(repeating: 0x61, count: 4096)), 413)
        expectPage(try berth.curl("/" + String(repeating: "u", count: 1500), host: "pages.test", over: transport), 414)
        expectPage(try berth.curl("/", host: "pages.test", over: transport, headers: ["X-Big: " + String(repeating: "b", count: 3000)]), 431)
        expectPage(try berth.curl("/", host: "pages.test", over: transport, headers: (0..<30).map { "X-Many-\($0): v" }), 431)
        // The connection or stream is fine afterwards.
        #expect(try berth.curl("/", host: "pages.test", over: transport).text == "<h1>Pages</h1>")
    }

    /// Refusals of input that never became a request: malformed bytes (400) and a head that
    /// does not arrive within header_timeout (408) get the default host's page, a log line
    /// and the close.
    @Test func guardAnswersOnRawConnections() throws {
        let berth = try Self.start()
        let malformed = try RawConnection(port: berth.plainPort)
        try malformed.send("GET / HTTP/1.1\r\nHost : pages.test\r\n\r\n")
        let bad = try malformed.readResponse()
        #expect(bad.status == 400 && bad.text == "<p>custom 400</p>" && bad.header("connection") == "close")
        #expect(malformed.isClosedByPeer())

        let slow = try RawConnection(port: berth.plainPort)
        try slow.send("GET / HTTP/1.1\r\nHost: pages.test\r\n")
        let timedOut = try slow.readResponse()
        #expect(timedOut.status == 408 && timedOut.text == "<p>custom 408</p>")
        #expect(slow.isClosedByPeer())

        // A body that stops arriving: 408 once body_timeout passes.
        let stalled = try RawConnection(port: berth.plainPort)
        try stalled.send("POST / HTTP/1.1\r\nHost: pages.test\r\nContent-Length: 10\r\n\r\nabc")
        let stalledAnswer = try stalled.readResponse()
        #expect(stalledAnswer.status == 408 && stalledAnswer.text == "<p>custom 408</p>")

        let long = try RawConnection(port: berth.plainPort)
        try long.send("GET /" + String(repeating: "u", count: 3000))
        let tooLong = try long.readResponse()
        #expect(tooLong.status == 414 && tooLong.text == "<p>custom 414</p>")

        let expected = ["\"-\" 400 17 ", "\"-\" 408 17 ", "\"POST / HTTP/1.1\" 408 17 ", "\"-\" 414 17 "]
        let log = berth.accessLog(containing: expected)
        for line in expected { #expect(log.contains(line), "\(log)") }
    }
}
