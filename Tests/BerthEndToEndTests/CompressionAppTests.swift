import Foundation
import Testing

/// Compression of app answers (whole and streamed) and of an example site in a real browser.
@Suite("Compression of app answers, and in a browser", .serialized)
struct CompressionAppTests {
    @Test(arguments: Transport.allCases)
    func appBodiesWholeAndStreamed(over transport: Transport) throws {
        let berth = try CompressionTests.start(app: true)
        let identity = try berth.curl("/api/report", host: "zip.test", over: transport)
        #expect(identity.status == 200 && identity.header("content-encoding") == nil && identity.body.count > 15_000)
        let gzip = try berth.curl("/api/report", host: "zip.test", over: transport, headers: ["Accept-Encoding: gzip"])
        #expect(gzip.header("content-encoding") == "gzip" && gzip.header("content-length") == String(gzip.body.count))
        #expect(gzip.header("vary") == "Accept-Encoding" && gzip.body.count < identity.body.count / 4)
        #expect(try CompressionClients.decode(gzip.body, coding: "gzip") == identity.body)
        let brotli = try berth.curl("/api/report", host: "zip.test", over: transport, headers: ["Accept-Encoding: br"])
        #expect(try CompressionClients.decode(brotli.body, coding: "br") == identity.body)
        let noTransform = try berth.curl("/api/report?transform=no", host: "zip.test", over: transport, headers: ["Accept-Encoding: gzip"])
        #expect(noTransform.header("content-encoding") == nil && noTransform.body == identity.body)

        // A large whole body is compressed a slice at a time, streamed: no Content-Length, and
        // the same bytes once decoded.
        let large = try berth.curl("/api/report?rows=8000", host: "zip.test", over: transport)
        #expect(large.body.count > 500_000 && large.header("content-length") == String(large.body.count))
        for coding in ["gzip", "br"] {
            let sliced = try berth.curl("/api/report?rows=8000", host: "zip.test", over: transport, headers: ["Accept-Encoding: \(coding)"])
            #expect(sliced.status == 200 && sliced.header("content-encoding") == coding && sliced.header("content-length") == nil)
            if transport != .https2 { #expect(sliced.header("transfer-encoding") == "chunked") }
            #expect(try CompressionClients.decode(sliced.body, coding: coding) == large.body)
        }

        // A chunk a second from the app: each one decoded by curl as it arrives, not at the end.
        let (lines, headers) = try CompressionClients.timedLines(berth, "/api/slow-stream", host: "zip.test", over: transport)
        #expect(headers.contains("content-encoding: br") || headers.contains("content-encoding: gzip"), "\(headers)")
        #expect(!headers.contains("content-length"))
        if transport != .https2 { #expect(headers.contains("transfer-encoding: chunked")) }
        try #require(lines.count == 3, "\(lines)")
        #expect(lines.map { String($0.text.prefix(6)) } == ["tick 0", "tick 1", "tick 2"])
        #expect(lines[2].time - lines[0].time > 1.5, "\(lines.map(\.time))")
        #expect(lines[1].time - lines[0].time > 0.7, "\(lines.map(\.time))")
    }

    /// The example site in headless Chromium: the page renders, and what went over the wire
    /// was compressed (the access log counts the bytes sent).
    @Test func chromiumRendersTheExampleSiteCompressed() throws {
        let site = repositoryRoot.appendingPathComponent("sites/alpha/public")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: site.appendingPathComponent("index.html").path)[.size] as? Int)
        let yaml = """
            listen: [{ address: 127.0.0.1, port: 0 }]
            threads: 2
            logs: { error: stderr, access: access.log }
            hosts:
              alpha.localhost: { default: true, static: \(site.path) }
            """
        let berth = try BerthProcess(yaml: yaml)
        let dom = try CompressionClients.chromiumDOM("http://alpha.localhost:\(berth.plainPort)/", host: "alpha.localhost")
        #expect(dom.contains("<h1>Roasted on Tuesday, in your cup by Friday.</h1>"), "\(dom.prefix(500))")
        let log = berth.accessLog(containing: ["\"GET / HTTP/1.1\" 200 ", "GET /images/logo.svg"])
        let line = try #require(log.split(separator: "\n").first { $0.contains("\"GET / HTTP/1.1\" 200 ") }, "\(log)")
        let fields = line.components(separatedBy: "\" 200 ")
        let sent = try #require(Int(fields[1].prefix { $0.isNumber }))
        #expect(sent > 0 && sent < size * 2 / 3, "\(line)")
        #expect(line.contains("Chrome"))
    }
}
