import Foundation
import Testing

@Suite("Limits and timeouts, safe by default")
struct LimitsTests {
    static let tight = """
        limits: { header_bytes: 1KiB, header_count: 10, uri_bytes: 256, body_bytes: 1KiB, header_timeout: 1s, body_timeout: 1s, idle_timeout: 1s, max_connections: 1100 }
        """

    @Test func sizeLimits() throws {
        let berth = try SiteFixture.start(limits: Self.tight)
        let longURI = "/" + String(repeating: "a", count: 300)
        #expect(try berth.raw("GET \(longURI) HTTP/1.1\r\nHost: beta.test\r\n\r\n").status == 414)
        let endlessURI = "/" + String(repeating: "a", count: 100_000)
        #expect(try berth.raw("GET \(endlessURI)").status == 414)
        let bigHeader = "X-Big: " + String(repeating: "b", count: 2000)
        #expect(try berth.raw("GET / HTTP/1.1\r\nHost: beta.test\r\n\(bigHeader)\r\n\r\n").status == 431)
        let many = (0..<20).map { "X-\($0): v\r\n" }.joined()
        #expect(try berth.raw("GET / HTTP/1.1\r\nHost: beta.test\r\n\(many)\r\n").status == 431)
        #expect(try berth.raw("POST / HTTP/1.1\r\nHost: beta.test\r\nContent-Length: 5000\r\n\r\n").status == 413)
        // Under the limits everything still works.
        #expect(try berth.request("/", host: "beta.test").status == 200)
    }

    @Test func chunkedBodyOverTheLimitClosesTheConnection() throws {
        let berth = try SiteFixture.start(limits: Self.tight)
        let connection = try RawConnection(port: berth.port)
        try connection.send("POST / HTTP/1.1\r\nHost: beta.test\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = String(repeating: "z", count: 600)
        try? connection.send("258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n")
        #expect(connection.isClosedByPeer())
    }

    @Test func tricklingHeaderIsCutOff() throws {
        let berth = try SiteFixture.start(limits: Self.tight)
        let connection = try RawConnection(port: berth.port, timeout: 5)
        let started = Date()
        var cut = false
        for byte in "GET / HTTP/1.1\r\nHost: beta.test\r\nX-Slow: ".utf8 {
            do { try connection.send([byte]) } catch { cut = true; break }
            Thread.sleep(forTimeInterval: 0.2)
            if Date().timeIntervalSince(started) > 4 { break }
        }
        if !cut {
            let response = try? connection.readResponse()
            #expect(response?.status == 408 || response == nil)
        }
        #expect(connection.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 4.5)
    }

    @Test func idleKeepAliveConnectionsClose() throws {
        let berth = try SiteFixture.start(limits: Self.tight)
        let connection = try RawConnection(port: berth.port, timeout: 5)
        try connection.send("GET / HTTP/1.1\r\nHost: beta.test\r\n\r\n")
        #expect(try connection.readResponse().status == 200)
        let started = Date()
        #expect(connection.isClosedByPeer())
        let waited = Date().timeIntervalSince(started)
        #expect(waited > 0.5 && waited < 4, "idle close after \(waited)s")
    }

    @Test func thousandIdleClientsDoNotStarveANormalOne() throws {
        let berth = try SiteFixture.start(limits: "limits: { idle_timeout: 30s, header_timeout: 30s }")
        var idle: [RawConnection] = []
        for index in 0..<1000 {
            let connection = try RawConnection(port: berth.port)
            // Half send a partial head (slowloris), half send nothing.
            if index % 2 == 0 { try connection.send("GET / HTTP/1.1\r\nHost: beta.test\r\n") }
            idle.append(connection)
        }
        let started = Date()
        let response = try berth.request("/", host: "beta.test")
        #expect(response.status == 200)
        #expect(Date().timeIntervalSince(started) < 1)
        withExtendedLifetime(idle) {}
    }

    @Test func connectionCapRefusesTheExtraConnection() throws {
        let berth = try SiteFixture.start(limits: "limits: { max_connections: 3 }")
        let held = try (0..<3).map { _ in try RawConnection(port: berth.port) }
        for connection in held {
            try connection.send("GET / HTTP/1.1\r\nHost: beta.test\r\n\r\n")
            #expect(try connection.readResponse().status == 200)
        }
        let extra = try RawConnection(port: berth.port)
        #expect(extra.isClosedByPeer())
        withExtendedLifetime(held) {}
    }
}
