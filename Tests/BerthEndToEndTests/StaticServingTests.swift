import Foundation
import Testing

@Suite("Static sites over real sockets")
struct StaticServingTests {
    @Test func servesIndexWithTypeAndValidators() throws {
        let berth = try SiteFixture.start()
        let response = try berth.request("/", host: "alpha.test")
        #expect(response.status == 200)
        #expect(response.text == "<!DOCTYPE html><h1>Alpha</h1>")
        #expect(response.header("content-type") == "text/html; charset=utf-8")
        #expect(response.header("etag") != nil)
        #expect(response.header("last-modified") != nil)
        #expect(response.header("x-site") == "alpha")
        #expect(response.header("server") == "berth")
        #expect(response.header("date") != nil)

        let head = try berth.request("/", method: "HEAD", host: "alpha.test")
        #expect(head.status == 200)
        #expect(head.header("content-length") == "29")
        #expect(head.body.isEmpty)
    }

    @Test func hostMatchingByNameAliasWildcardAndDefault() throws {
        let berth = try SiteFixture.start()
        #expect(try berth.request("/", host: "alpha.test").text.contains("Alpha"))
        #expect(try berth.request("/", host: "WWW.Alpha.Test:8080").text.contains("Alpha"))
        #expect(try berth.request("/", host: "beta.test").text.contains("Beta"))
        #expect(try berth.request("/", host: "a.b.wild.test").text.contains("Beta"))
        // The bare suffix is not covered by "*.wild.test".
        #expect(try berth.request("/", host: "wild.test").text.contains("Default"))
        #expect(try berth.request("/", host: "unknown.example").text.contains("Default"))
        #expect(try berth.request("/", host: "alpha.test.").text.contains("Alpha"))
    }

    @Test func unknownHostWithoutDefaultIsMisdirected() throws {
        let yaml = """
            listen: [{ address: 127.0.0.1, port: 0 }]
            logs: { error: stderr }
            hosts:
              only.test: { static: site }
            """
        let berth = try BerthProcess(yaml: yaml, files: ["site/index.html": "only"])
        #expect(try berth.request("/", host: "only.test").text == "only")
        let other = try berth.request("/", host: "other.test")
        #expect(other.status == 421)
        #expect(!other.text.contains("only"))
    }

    @Test func longestPrefixAndRedirectKeepingPath() throws {
        let berth = try SiteFixture.start()
        let listing = try berth.request("/files/", host: "alpha.test")
        #expect(listing.status == 200)
        #expect(listing.text.contains("a.txt"))
        #expect(listing.text.contains("b &amp; c.txt"))
        // Listing is off on the root route.
        #expect(try berth.request("/css/", host: "alpha.test").status == 404)

        let redirect = try berth.request("/old/posts/1?x=2", host: "alpha.test")
        #expect(redirect.status == 308)
        #expect(redirect.header("location") == "https://alpha.test/new/posts/1?x=2")
        // "/oldest" is not below "/old".
        #expect(try berth.request("/oldest", host: "alpha.test").status == 404)
    }

    @Test func directoryRedirectsToSlashThenIndex() throws {
        let berth = try SiteFixture.start()
        let redirect = try berth.request("/docs/guide?v=1", host: "alpha.test")
        #expect(redirect.status == 301)
        #expect(redirect.header("location") == "/docs/guide/?v=1")
        #expect(try berth.request("/docs/guide/", host: "alpha.test").text == "<h1>Guide</h1>")
    }

    @Test func customErrorPageAndHiddenFiles() throws {
        let berth = try SiteFixture.start()
        let missing = try berth.request("/nope.html", host: "alpha.test")
        #expect(missing.status == 404)
        #expect(missing.text == "<h1>Alpha has no such page</h1>")
        let dotfile = try berth.request("/.env", host: "alpha.test")
        #expect(dotfile.status == 404)
        #expect(!dotfile.text.contains("SECRET"))
        let leak = try berth.request("/leak.txt", host: "alpha.test")
        #expect(leak.status == 404)
        #expect(!leak.text.contains("TOP SECRET"))
        // A symlink that stays inside the root is served.
        #expect(try berth.request("/inside.txt", host: "alpha.test").text == SiteFixture.digits)
        #expect(try berth.request("/nope.html", host: "beta.test").text.contains("404 Not Found"))
    }

    @Test(arguments: [
        "/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/%2E%2E%2Foutside%2Fsecret.txt",
        "/css/..%2f..%2foutside/secret.txt", "/.%2e/outside/secret.txt", "/%252e%252e/outside/secret.txt",
        "/index.html%00.txt", "/..\\outside\\secret.txt", "/%5c..%5coutside%5csecret.txt",
    ])
    func traversalNeverLeavesTheRoot(path: String) throws {
        let berth = try SiteFixture.start()
        let response = try berth.raw("GET \(path) HTTP/1.1\r\nHost: alpha.test\r\nConnection: close\r\n\r\n")
        #expect([400, 404].contains(response.status), "\(path) -> \(response.status)")
        #expect(!response.text.contains("TOP SECRET"))
    }

    @Test func methodsOtherThanGetAndHead() throws {
        let berth = try SiteFixture.start()
        let response = try berth.request("/index.html", method: "POST", host: "alpha.test", body: "x=1")
        #expect(response.status == 405)
        #expect(response.header("allow") == "GET, HEAD")
    }

    @Test func conditionalRequests() throws {
        let berth = try SiteFixture.start()
        let first = try berth.request("/digits.txt", host: "alpha.test")
        let etag = try #require(first.header("etag"))
        let modified = try #require(first.header("last-modified"))
        #expect(try berth.request("/digits.txt", host: "alpha.test", headers: ["If-None-Match": etag]).status == 304)
        #expect(try berth.request("/digits.txt", host: "alpha.test", headers: ["If-Modified-Since": modified]).status == 304)
        #expect(try berth.request("/digits.txt", host: "alpha.test", headers: ["If-Match": "\"other\""]).status == 412)
        #expect(try berth.request("/digits.txt", host: "alpha.test", headers: ["If-Match": etag]).status == 200)
        // If-None-Match takes precedence over If-Modified-Since (RFC 9110 §13.2.2).
        let both = try berth.request(
            "/digits.txt", host: "alpha.test", headers: ["If-None-Match": "\"other\"", "If-Modified-Since": modified])
        #expect(both.status == 200)
        #expect(
            try berth.request("/digits.txt", host: "alpha.test", headers: ["If-Unmodified-Since": "Thu, 01 Jan 1998 00:00:00 GMT"]).status
                == 412)
    }

    @Test func rangeRequests() throws {
        let berth = try SiteFixture.start()
        let single = try berth.request("/digits.txt", host: "alpha.test", headers: ["Range": "bytes=10-14"])
        #expect(single.status == 206)
        #expect(single.text == "01234")
        #expect(single.header("content-range") == "bytes 10-14/1000")
        let suffix = try berth.request("/digits.txt", host: "alpha.test", headers: ["Range": "bytes=-3"])
        #expect(suffix.text == "789")
        let multi = try berth.request("/digits.txt", host: "alpha.test", headers: ["Range": "bytes=0-1,5-6"])
        #expect(multi.status == 206)
        #expect(multi.header("content-type")?.hasPrefix("multipart/byteranges; boundary=") == true)
        #expect(multi.text.contains("Content-Range: bytes 0-1/1000"))
        #expect(multi.text.contains("Content-Range: bytes 5-6/1000"))
        let unsatisfiable = try berth.request("/digits.txt", host: "alpha.test", headers: ["Range": "bytes=5000-"])
        #expect(unsatisfiable.status == 416)
        #expect(unsatisfiable.header("content-range") == "bytes */1000")
        let etag = try #require(single.header("etag"))
        #expect(try berth.request("/digits.txt", host: "alpha.test", headers: ["Range": "bytes=0-0", "If-Range": etag]).status == 206)
        #expect(try berth.request("/digits.txt", host: "alpha.test", headers: ["Range": "bytes=0-0", "If-Range": "\"stale\""]).status == 200)
    }

    @Test func precompressedSidecar() throws {
        let berth = try SiteFixture.start()
        let gz = try berth.request("/css/style.css", host: "alpha.test", headers: ["Accept-Encoding": "gzip, br;q=0"])
        #expect(gz.status == 200)
        #expect(gz.header("content-encoding") == "gzip")
        #expect(gz.text == "GZIP-VARIANT")
        #expect(gz.header("content-type") == "text/css; charset=utf-8")
        #expect(gz.header("vary")?.lowercased().contains("accept-encoding") == true)
        let plain = try berth.request("/css/style.css", host: "alpha.test")
        #expect(plain.header("content-encoding") == nil)
        #expect(plain.text == "body { color: teal; }")
        #expect(plain.header("etag") != gz.header("etag"))
        let refused = try berth.request("/css/style.css", host: "alpha.test", headers: ["Accept-Encoding": "gzip;q=0"])
        #expect(refused.header("content-encoding") == nil)
    }

    @Test func changedFilesAreServedFresh() throws {
        let berth = try SiteFixture.start()
        let file = berth.directory.appendingPathComponent("beta/index.html")
        #expect(try berth.request("/", host: "beta.test").text == "<h1>Beta</h1>")
        try Data("<h1>Beta 2</h1>".utf8).write(to: file)  // atomic rename by Foundation
        #expect(try berth.request("/", host: "beta.test").text == "<h1>Beta 2</h1>")
        let handle = try FileHandle(forWritingTo: file)
        try handle.write(contentsOf: Data("<h1>BETA 3</h1>".utf8))  // same size, in place
        try handle.close()
        #expect(try berth.request("/", host: "beta.test").text == "<h1>BETA 3</h1>")
        try FileManager.default.removeItem(at: file)
        #expect(try berth.request("/", host: "beta.test").status == 404)
    }

    @Test func curlFetchesOverIPv4AndIPv6() throws {
        let berth = try BerthProcess(
            yaml: SiteFixture.yaml(listen: "  - { address: 127.0.0.1, port: 0 }\n  - { address: \"::1\", port: 0 }"),
            files: SiteFixture.files)
        #expect(berth.ports.count == 2)
        let v4 = try runTool("/usr/bin/curl", ["-sS", "-H", "Host: alpha.test", "http://127.0.0.1:\(berth.ports[0])/digits.txt"])
        #expect(v4.stdout == SiteFixture.digits)
        let v6 = try runTool("/usr/bin/curl", ["-sS", "-H", "Host: beta.test", "http://[::1]:\(berth.ports[1])/"])
        #expect(v6.stdout == "<h1>Beta</h1>")
    }

    /// A file over 64 KiB goes out with `sendfile`, its head corked so that both leave in the
    /// same segments; the cork must come out after every such answer. Left in, each small
    /// answer after it would wait for the kernel's 200 ms cork timer: forty of them 8 s.
    @Test func smallAnswersAfterASentFileAreNotHeldBack() throws {
        let big = String((0..<100_000).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
        let yaml = """
            listen: [{ address: 127.0.0.1, port: 0 }]
            logs: { error: stderr }
            hosts:
              localhost: { static: site }
            """
        let berth = try BerthProcess(yaml: yaml, files: ["site/big.txt": big, "site/small.txt": "small"])
        let connection = try RawConnection(port: berth.port)
        try connection.send("GET /big.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let first = try connection.readResponse()
        #expect(first.status == 200)
        #expect(first.text == big)
        let start = Date()
        for _ in 0..<40 {
            try connection.send("GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(try connection.readResponse().text == "small")
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 5, "forty small answers after a sent file took \(elapsed) s")
    }
}
