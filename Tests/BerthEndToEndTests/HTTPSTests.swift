import Foundation
import Testing

/// HTTPS with real clients: openssl s_client for certificates and raw HTTP/2 frames, curl over
/// HTTP/1.1 and HTTP/2, nghttp and h2load.
@Suite("HTTPS: TLS with SNI, HTTP/2 over ALPN, redirects and HSTS")
struct HTTPSTests {
    struct Certificates {
        var alpha: TestCertificate
        var wild: TestCertificate
        var fallback: TestCertificate
    }

    static func certificates() throws -> Certificates {
        Certificates(
            alpha: try TestCertificates.make(["alpha.test", "www.alpha.test"]),
            wild: try TestCertificates.make(["*.wild.test"]),
            fallback: try TestCertificates.make(["default.test"])
        )
    }

    /// SETTINGS_MAX_CONCURRENT_STREAMS as berth advertises it.
    static let maxConcurrentStreams = 100

    /// Big enough for several TLS records, HTTP/2 frames and flow-control windows.
    static let big = String(repeating: SiteFixture.digits, count: 2_100)
    /// Between 32 and 64 KiB: held in memory and sent with `sendfile` on plain sockets, from
    /// memory on TLS and HTTP/2.
    static let middling = String(repeating: SiteFixture.digits, count: 48)

    /// The site fixture, with a plain and a TLS listener and a certificate on three hosts
    /// (beta.test has none of its own).
    static func yaml(limits: String = "", listenerTLS: String = "true", http2: Bool = true, alphaTLS: String = "") throws -> String {
        let certs = try self.certificates()
        return """
            listen:
              - { address: 127.0.0.1, port: 0 }
              - { address: 127.0.0.1, port: 0, tls: \(listenerTLS), http2: \(http2) }
            threads: 2
            logs: { error: stderr, access: access.log }
            \(limits)
            hosts:
              alpha.test:
                aliases: [www.alpha.test]
                tls: { certificate: \(certs.alpha.certificate), key: \(certs.alpha.key)\(alphaTLS) }
                errors: { 404: alpha/404.html }
                headers: { X-Site: alpha }
                paths:
                  /: { static: alpha }
                  /old: { redirect: { to: "https://alpha.test/new", status: 308, keep_path: true } }
              beta.test:
                static: beta
              "*.wild.test":
                tls: { certificate: \(certs.wild.certificate), key: \(certs.wild.key) }
                static: beta
              default.test:
                default: true
                tls: { certificate: \(certs.fallback.certificate), key: \(certs.fallback.key) }
                static: default
            """
    }

    static func start(limits: String = "", listenerTLS: String = "true", http2: Bool = true, alphaTLS: String = "") throws -> BerthProcess {
        var files = SiteFixture.files
        files["alpha/big.txt"] = Self.big
        files["alpha/middling.txt"] = Self.middling
        return try BerthProcess(yaml: yaml(limits: limits, listenerTLS: listenerTLS, http2: http2, alphaTLS: alphaTLS), files: files)
    }

    // MARK: - Certificates by SNI

    @Test func sniPicksEachHostsCertificate() throws {
        let berth = try Self.start()
        #expect(try berth.presentedCommonName(serverName: "alpha.test") == "alpha.test")
        #expect(try berth.presentedCommonName(serverName: "WWW.Alpha.Test") == "alpha.test")
        // A wildcard host with a wildcard certificate.
        #expect(try berth.presentedCommonName(serverName: "a.wild.test") == "*.wild.test")
        // No certificate of its own, an unknown name, no SNI at all: the default host's.
        #expect(try berth.presentedCommonName(serverName: "beta.test") == "default.test")
        #expect(try berth.presentedCommonName(serverName: "unknown.example") == "default.test")
        #expect(try berth.presentedCommonName(serverName: nil) == "default.test")
        // And the content follows the Host, as on plain HTTP.
        #expect(try berth.curl("/", host: "a.wild.test", over: .https2).text == "<h1>Beta</h1>")
    }

    // MARK: - The same behaviour over every protocol

    @Test(arguments: Transport.allCases)
    func staticServingBehavesTheSame(over transport: Transport) throws {
        let berth = try Self.start(limits: "limits: { body_bytes: 1KiB, header_bytes: 4KiB, header_count: 20, uri_bytes: 1KiB }")
        let index = try berth.curl("/", host: "alpha.test", over: transport)
        #expect(index.status == 200, "\(index)")
        #expect(index.version == (transport == .https2 ? "2" : "1.1"))
        #expect(index.text == "<!DOCTYPE html><h1>Alpha</h1>")
        #expect(index.header("content-type") == "text/html; charset=utf-8")
        #expect(index.header("x-site") == "alpha" && index.header("server") == "berth")
        let etag = try #require(index.header("etag"))

        // Conditional requests and ranges.
        #expect(try berth.curl("/", host: "alpha.test", over: transport, headers: ["If-None-Match: \(etag)"]).status == 304)
        #expect(try berth.curl("/", host: "alpha.test", over: transport, headers: ["If-Match: \"nope\""]).status == 412)
        let range = try berth.curl("/digits.txt", host: "alpha.test", over: transport, headers: ["Range: bytes=10-19"])
        #expect(range.status == 206 && range.text == "0123456789" && range.header("content-range") == "bytes 10-19/1000")
        let unsatisfiable = try berth.curl("/digits.txt", host: "alpha.test", over: transport, headers: ["Range: bytes=5000-"])
        #expect(unsatisfiable.status == 416 && unsatisfiable.header("content-range") == "bytes */1000")
        let head = try berth.curl("/", host: "alpha.test", over: transport, method: "HEAD")
        #expect(head.status == 200 && head.header("content-length") == "29")

        // A body far larger than any buffer: sendfile on plain sockets, read and encrypted on TLS.
        let big = try berth.curl("/big.txt", host: "alpha.test", over: transport)
        #expect(big.status == 200 && big.body.count == Self.big.utf8.count && big.text == Self.big)
        let tail = try berth.curl("/big.txt", host: "alpha.test", over: transport, headers: ["Range: bytes=-5"])
        #expect(tail.status == 206 && tail.text == "56789")
        let middling = try berth.curl("/middling.txt", host: "alpha.test", over: transport)
        #expect(middling.status == 200 && middling.text == Self.middling)
        let middle = try berth.curl("/middling.txt", host: "alpha.test", over: transport, headers: ["Range: bytes=1000-1009,-3"])
        #expect(middle.status == 206 && middle.text.contains("0123456789") && middle.text.contains("789\r\n--"))

        // Errors, custom pages, redirects, hidden files.
        let missing = try berth.curl("/nothing", host: "alpha.test", over: transport)
        #expect(missing.status == 404 && missing.text.contains("Alpha has no such page"))
        #expect(try berth.curl("/.env", host: "alpha.test", over: transport).status == 404)
        let post = try berth.curl("/", host: "beta.test", over: transport, method: "POST", body: Data("x=1".utf8))
        #expect(post.status == 405 && post.header("allow") == "GET, HEAD")
        let redirect = try berth.curl("/old/a?b=1", host: "alpha.test", over: transport)
        #expect(redirect.status == 308 && redirect.header("location") == "https://alpha.test/new/a?b=1")
        #expect(try berth.curl("/", host: "unknown.example", over: transport).text.contains("Default"))

        // Limits.
        let tooLarge = try berth.curl("/", host: "beta.test", over: transport, method: "POST", body: Data(repeating: 0x61, count: 4096))
        #expect(tooLarge.status == 413)
        let bigHeader = "X-Big: " + String(repeating: "b", count: 5000)
        #expect(try berth.curl("/", host: "beta.test", over: transport, headers: [bigHeader]).status == 431)
        let many = (0..<30).map { "X-Many-\($0): v" }
        #expect(try berth.curl("/", host: "beta.test", over: transport, headers: many).status == 431)
        let longURI = "/" + String(repeating: "a", count: 2000)
        #expect(try berth.curl(longURI, host: "beta.test", over: transport).status == 414)
        // The connection is still good after all of it.
        #expect(try berth.curl("/", host: "beta.test", over: transport).status == 200)

        // The access log names the protocol the client spoke.
        let log = try String(contentsOf: berth.directory.appendingPathComponent("access.log"), encoding: .utf8)
        #expect(log.contains("\"GET / \(transport.logVersion)\" 200 29 "), "\(log)")
        #expect(log.contains("\"GET /big.txt \(transport.logVersion)\" 200 \(Self.big.utf8.count) "))
        #expect(log.contains("\"GET /nothing \(transport.logVersion)\" 404 "))
        #expect(log.contains("\"POST / \(transport.logVersion)\" 405 "))
    }

    // MARK: - ALPN and real HTTP/2 clients

    @Test func alpnOffersH2AndFallsBackToHTTP1() throws {
        let berth = try Self.start()
        let both = try berth.tlsHandshake(serverName: "alpha.test", arguments: ["-alpn", "h2,http/1.1"])
        #expect(both.text.contains("ALPN protocol: h2"), "\(both.text)")
        let http1 = try berth.tlsHandshake(serverName: "alpha.test", arguments: ["-alpn", "http/1.1"])
        #expect(http1.text.contains("ALPN protocol: http/1.1"))
        // A client that offers only HTTP/1.1, or no ALPN at all, is served HTTP/1.1.
        let only1 = try berth.curl("/", host: "alpha.test", over: .https1)
        #expect(only1.status == 200 && only1.version == "1.1")
        let noALPN = try berth.curl("/", host: "alpha.test", over: .https1, extra: ["--no-alpn"])
        #expect(noALPN.status == 200 && noALPN.version == "1.1")
    }

    @Test func http2CanBeSwitchedOffPerListener() throws {
        let berth = try Self.start(http2: false)
        let response = try berth.curl("/", host: "alpha.test", over: .https2)
        #expect(response.status == 200 && response.version == "1.1")
        let offer = try berth.tlsHandshake(serverName: "alpha.test", arguments: ["-alpn", "h2"])
        #expect(!offer.text.contains("ALPN protocol: h2"))
    }

    @Test func nghttpAndH2loadFetchStaticFiles() throws {
        let berth = try Self.start()
        let url = "https://127.0.0.1:\(berth.securePort)"
        let nghttp = try Tool.run(Tool.nghttp, ["-nv", "-H", ":authority: alpha.test", url + "/digits.txt"])
        #expect(nghttp.text.contains(":status: 200"), "\(nghttp.text)")
        #expect(nghttp.text.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):100"))
        #expect(nghttp.text.contains("END_STREAM"))
        let load = try Tool.run(Tool.h2load, ["-n", "200", "-c", "4", "-m", "10", "-H", ":authority: alpha.test", url + "/digits.txt"])
        #expect(load.text.contains("200 succeeded, 0 failed, 0 errored"), "\(load.text)")
        #expect(load.text.contains("status codes: 200 2xx"))
        let big = try Tool.run(Tool.h2load, ["-n", "20", "-c", "2", "-H", ":authority: alpha.test", url + "/big.txt"])
        #expect(big.text.contains("20 succeeded, 0 failed"), "\(big.text)")
    }

    /// On one HTTPS/1.1 connection, answers from memory and answers read from files alternate:
    /// the handler that reads and encrypts file bodies joins the connection at its first file
    /// answer, and every answer arrives whole and in order.
    @Test func memoryAndFileAnswersAlternateOnOneConnection() throws {
        let berth = try Self.start()
        let scratch = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let paths = ["/digits.txt", "/big.txt", "/", "/big.txt", "/digits.txt"]
        var arguments = ["-s", "-k", "--http1.1", "--max-time", "30", "--resolve", "alpha.test:\(berth.securePort):127.0.0.1",
                         "-w", "%{num_connects} "]
        for (index, path) in paths.enumerated() {
            arguments += ["-o", scratch.appendingPathComponent("\(index)").path, "https://alpha.test:\(berth.securePort)\(path)"]
        }
        let result = try Tool.run(Tool.curl, arguments, timeout: 60)
        // One connection for all five.
        #expect(result.text == "1 0 0 0 0 ", "\(result.text)")
        let bodies = paths.indices.map { FileManager.default.contents(atPath: scratch.appendingPathComponent("\($0)").path) ?? Data() }
        let digits = try berth.curl("/digits.txt", host: "alpha.test", over: .https1).body
        #expect(digits.count == 1000)
        #expect(bodies[0] == digits && bodies[4] == digits)
        #expect(String(decoding: bodies[1], as: UTF8.self) == Self.big && String(decoding: bodies[3], as: UTF8.self) == Self.big)
        #expect(bodies[2].count == 29)
    }

    /// Flow control (RFC 9113 §6.9): a client with a 1 KiB stream window and a 16 KiB
    /// connection window gets a 2 MB file whole, in frames its windows allow, while a second
    /// stream on the same connection is answered too.
    @Test func largeFileOverASmallClientWindowArrivesIntact() throws {
        let berth = try Self.start()
        let url = "https://127.0.0.1:\(berth.securePort)"
        // nghttp writes the body to standard output.
        let fetched = try Tool.run(Tool.nghttp, ["-w", "10", "-W", "14", "-H", ":authority: alpha.test", url + "/big.txt"], timeout: 60)
        #expect(fetched.stdout.count == Self.big.utf8.count && fetched.text == Self.big)
        // Two streams at once share the connection window; both complete.
        let both = try Tool.run(Tool.nghttp, ["-nv", "-w", "10", "-W", "14", "-H", ":authority: alpha.test",
                                              url + "/big.txt", url + "/digits.txt"], timeout: 60)
        #expect(both.text.components(separatedBy: ":status: 200").count == 3, "\(both.text.suffix(500))")
        // Frames as the client logged them: none over its stream window.
        let verbose = try Tool.run(Tool.nghttp, ["-nv", "-w", "10", "-W", "14", "-H", ":authority: alpha.test", url + "/big.txt"], timeout: 60)
        let dataLengths = verbose.text.split(separator: "\n").filter { $0.contains("recv DATA frame") }.compactMap { line -> Int? in
            guard let range = line.range(of: "length=") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        #expect(!dataLengths.isEmpty && dataLengths.allSatisfy { $0 <= 1023 }, "\(dataLengths.prefix(5))")
    }

    // MARK: - Redirects to HTTPS and HSTS

    @Test func plainHTTPRedirectsAndHSTSOnlyOverTLS() throws {
        let berth = try Self.start(alphaTLS: ", redirect_http: true, hsts: \"max-age=600; includeSubDomains\"")
        let port = berth.securePort
        let redirect = try berth.curl("/docs/guide/?q=1&r=%20", host: "alpha.test", over: .http1)
        #expect(redirect.status == 308)
        #expect(redirect.header("location") == "https://alpha.test:\(port)/docs/guide/?q=1&r=%20")
        #expect(redirect.header("strict-transport-security") == nil)
        // Aliases keep the name asked for; the method is kept by 308.
        let alias = try berth.curl("/x", host: "www.alpha.test", over: .http1, method: "POST", body: Data("a".utf8))
        #expect(alias.status == 308 && alias.header("location") == "https://www.alpha.test:\(port)/x")
        // ACME HTTP-01 challenges stay on plain HTTP.
        #expect(try berth.curl("/.well-known/acme-challenge/token", host: "alpha.test", over: .http1).status == 404)
        // Hosts without redirect_http serve plain HTTP as before.
        #expect(try berth.curl("/", host: "beta.test", over: .http1).status == 200)

        for transport in [Transport.https1, .https2] {
            let secure = try berth.curl("/", host: "alpha.test", over: transport)
            #expect(secure.status == 200)
            #expect(secure.header("strict-transport-security") == "max-age=600; includeSubDomains")
            #expect(try berth.curl("/nothing", host: "alpha.test", over: transport).header("strict-transport-security") != nil)
            #expect(try berth.curl("/", host: "default.test", over: transport).header("strict-transport-security") == nil)
        }
        // curl follows the redirect to the HTTPS listener.
        let followed = try berth.curl("/", host: "alpha.test", over: .http1, extra: ["-L", "--resolve", "alpha.test:\(port):127.0.0.1"])
        #expect(followed.status == 200 && followed.header("strict-transport-security") != nil)
    }

    // MARK: - Versions and resumption

    @Test func tlsVersionsAndSessionResumption() throws {
        let berth = try Self.start()
        // TLS 1.0 and 1.1 are never negotiated (RFC 8996).
        let old = try berth.tlsHandshake(serverName: "alpha.test", arguments: ["-tls1_1"])
        #expect(!old.text.contains("New, TLSv1") && old.text.contains("Cipher is (NONE)"), "\(old.text)\(old.stderr)")
        for version in ["-tls1_2", "-tls1_3"] {
            let sessionFile = berth.directory.appendingPathComponent("session\(version)").path
            // The server's tickets go out with its first response, so ask for something.
            let first = try Tool.execute(Tool.openssl, [
                "s_client", "-connect", "127.0.0.1:\(berth.securePort)", "-servername", "alpha.test", version,
                "-alpn", "http/1.1", "-sess_out", sessionFile,
            ], input: Data("GET / HTTP/1.1\r\nHost: alpha.test\r\n\r\n".utf8), keepInputOpen: 1, timeout: 10)
            #expect(first.text.contains("New, TLSv1."), "\(first.text)")
            let second = try berth.tlsHandshake(serverName: "alpha.test", arguments: [version, "-sess_in", sessionFile])
            #expect(second.text.contains("Reused, TLSv1."), "\(version): \(second.text)")
        }
    }

    @Test func minimumVersionIsConfigurable() throws {
        let berth = try Self.start(listenerTLS: "{ min_version: \"1.3\" }")
        let tls12 = try berth.tlsHandshake(serverName: "alpha.test", arguments: ["-tls1_2"])
        #expect(!tls12.text.contains("New, TLSv1.2"))
        let tls13 = try berth.tlsHandshake(serverName: "alpha.test", arguments: ["-tls1_3"])
        #expect(tls13.text.contains("New, TLSv1.3"))
    }

    // MARK: - Hostile clients

    @Test func hostileClientsOnTheTLSPortOnlyLoseTheirConnection() throws {
        let berth = try Self.start(limits: "limits: { header_timeout: 1s }")
        let garbage = try RawConnection(port: berth.securePort)
        try garbage.send((0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        #expect(garbage.isClosedByPeer())

        let plain = try RawConnection(port: berth.securePort)
        try plain.send("GET / HTTP/1.1\r\nHost: alpha.test\r\n\r\n")
        #expect(plain.isClosedByPeer())

        // Half a ClientHello, then silence: cut off by the handshake timeout.
        let stalled = try RawConnection(port: berth.securePort, timeout: 5)
        try stalled.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])
        let started = Date()
        #expect(stalled.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 4)

        // Connected, never a byte: the same.
        let silent = try RawConnection(port: berth.securePort, timeout: 5)
        let silentStart = Date()
        #expect(silent.isClosedByPeer())
        #expect(Date().timeIntervalSince(silentStart) < 4)

        // A client that vanishes mid-handshake.
        let vanishing = try RawConnection(port: berth.securePort)
        try vanishing.send([0x16, 0x03, 0x01, 0x00, 0x80])
        shutdown(vanishing.fd, Int32(SHUT_RDWR))

        #expect(try berth.curl("/", host: "alpha.test", over: .https2).status == 200)
        #expect(try berth.curl("/", host: "alpha.test", over: .https1).status == 200)
    }

    // MARK: - HTTP/2 protocol errors (RFC 9113 §5.4)

    @Test func http2ConnectionErrorsEndOnlyThatConnection() throws {
        let berth = try Self.start()
        // DATA on stream 0 is a connection error of type PROTOCOL_ERROR (RFC 9113 §6.1).
        let badFrame = try berth.h2Exchange(H2.opening + H2.frame(.data, stream: 0, [1, 2, 3]), wait: 2)
        #expect(badFrame.contains { $0.type == H2.FrameType.goAway.rawValue && $0.errorCode == 0x1 }, "\(badFrame)")

        // A window beyond 2^31-1 is a FLOW_CONTROL_ERROR (RFC 9113 §6.9.1).
        let overflow = try berth.h2Exchange(H2.opening + H2.windowUpdate(stream: 0, increment: 0x7fff_ffff), wait: 2)
        #expect(overflow.contains { $0.type == H2.FrameType.goAway.rawValue && $0.errorCode == 0x3 }, "\(overflow)")

        // A rapid-reset flood (open a stream, reset it, again and again) gets GOAWAY with
        // ENHANCE_YOUR_CALM (RFC 9113 §5.4.1) long before it ends.
        var flood = H2.opening
        for index in 0..<1000 {
            let stream = UInt32(2 * index + 1)
            flood += H2.headers(stream: stream, H2.request(path: "/digits.txt", authority: "alpha.test"), endStream: false)
            flood += H2.rstStream(stream: stream)
        }
        let flooded = try berth.h2Exchange(flood, wait: 2)
        #expect(flooded.contains { $0.type == H2.FrameType.goAway.rawValue && $0.errorCode == 0xb }, "\(flooded.suffix(3))")

        // A PING whose length is not 8 is a connection error FRAME_SIZE_ERROR (RFC 9113
        // §6.7), and the connection closes.
        let badPing = try berth.h2Exchange(H2.opening + H2.frame(.ping, stream: 0, [1, 2, 3]), wait: 2)
        #expect(badPing.contains { $0.type == H2.FrameType.goAway.rawValue && $0.errorCode == 0x6 }, "\(badPing)")

        // Stream states (§5.1): HEADERS again on a stream the client ended, while it is still
        // being answered or after, is STREAM_CLOSED; DATA after the client's own RST_STREAM
        // is STREAM_CLOSED for that stream alone.
        let request = H2.request(path: "/digits.txt", authority: "alpha.test")
        let again = try berth.h2Exchange(H2.opening + H2.headers(stream: 1, request) + H2.headers(stream: 1, request), wait: 2)
        #expect(again.contains { ($0.type == H2.FrameType.goAway.rawValue || $0.type == H2.FrameType.rstStream.rawValue) && $0.errorCode == 0x5 },
                "\(again)")
        let afterReset = try berth.h2Exchange(
            H2.opening + H2.headers(stream: 1, H2.request(method: "POST", authority: "alpha.test", extra: [("content-length", "10")]), endStream: false)
                + H2.rstStream(stream: 1) + H2.frame(.data, flags: H2.endStream, stream: 1, Array(repeating: 0x61, count: 10))
                + H2.headers(stream: 3, request), wait: 2)
        #expect(afterReset.contains { $0.type == H2.FrameType.rstStream.rawValue && $0.stream == 1 && $0.errorCode == 0x5 }, "\(afterReset)")
        #expect(afterReset.contains { $0.type == H2.FrameType.data.rawValue && $0.stream == 3 && $0.payload.count == 1000 })

        // Others never noticed.
        #expect(try berth.curl("/", host: "alpha.test", over: .https2).status == 200)
        #expect(try berth.curl("/", host: "alpha.test", over: .http1).status == 200)
    }

    @Test func http2StreamLimitsEndOnlyTheStream() throws {
        let berth = try Self.start(limits: "limits: { body_timeout: 1s, idle_timeout: 2s }")
        // SETTINGS_MAX_CONCURRENT_STREAMS streams at once, all waiting for their bodies: each
        // gets its 408 when body_timeout expires, the connection carries on.
        var full = H2.opening
        for index in 0..<HTTPSTests.maxConcurrentStreams {
            full += H2.headers(stream: UInt32(2 * index + 1), H2.request(method: "POST", authority: "alpha.test",
                                                                         extra: [("content-length", "10")]), endStream: false)
        }
        let frames = try berth.h2Exchange(full, wait: 2.5)
        let timedOut = frames.filter { $0.type == H2.FrameType.data.rawValue && String(decoding: $0.payload, as: UTF8.self).contains("408 Request Timeout") }
        #expect(timedOut.count == HTTPSTests.maxConcurrentStreams, "\(frames.prefix(5))")
        #expect(!frames.contains { $0.type == H2.FrameType.goAway.rawValue }, "\(frames.filter { $0.type == H2.FrameType.goAway.rawValue }.map { ($0.errorCode, String(decoding: $0.payload.dropFirst(8), as: UTF8.self)) })")

        // One more is refused, that stream alone (RFC 9113 §5.1.2: RST_STREAM with
        // REFUSED_STREAM, which tells the client it may retry it); the connection carries on.
        let excessID = UInt32(2 * HTTPSTests.maxConcurrentStreams + 1)
        let excess = full + H2.headers(stream: excessID, H2.request(path: "/digits.txt", authority: "alpha.test"))
        let refused = try berth.h2Exchange(excess, wait: 2)
        #expect(refused.contains { $0.type == H2.FrameType.rstStream.rawValue && $0.stream == excessID && $0.errorCode == 0x7 }, "\(refused.suffix(3))")
        #expect(!refused.contains { $0.type == H2.FrameType.goAway.rawValue && $0.errorCode != 0 })
        #expect(try berth.curl("/", host: "alpha.test", over: .https2).status == 200)

        // A request body that never comes: 408 on that stream after body_timeout, while the
        // stream next to it is answered at once; then the idle connection gets GOAWAY.
        let exchange = H2.opening
            + H2.headers(stream: 1, H2.request(method: "POST", authority: "alpha.test", extra: [("content-length", "10")]), endStream: false)
            + H2.headers(stream: 3, H2.request(path: "/digits.txt", authority: "alpha.test"))
        let started = Date()
        let answered = try berth.h2Exchange(exchange, wait: 6)
        let elapsed = Date().timeIntervalSince(started)
        let stream1 = answered.filter { $0.stream == 1 }
        let stream3 = answered.filter { $0.stream == 3 }
        #expect(stream3.contains { $0.type == H2.FrameType.data.rawValue && $0.payload.count == 1000 })
        #expect(stream1.contains { $0.type == H2.FrameType.headers.rawValue }, "\(answered)")
        #expect(stream1.contains { $0.type == H2.FrameType.data.rawValue && $0.flags & H2.endStream != 0
            && String(decoding: $0.payload, as: UTF8.self).contains("408 Request Timeout") })
        #expect(answered.contains { $0.type == H2.FrameType.goAway.rawValue && $0.errorCode == 0 })
        #expect(elapsed < 5.5, "the idle connection was closed after \(elapsed)s")
    }

    // MARK: - Certificates that cannot work

    @Test func badCertificatesAreRefusedNamingHostAndFile() throws {
        let alpha = try TestCertificates.make(["alpha.test", "www.alpha.test"])
        let other = try TestCertificates.make(["other.test"])
        let narrow = try TestCertificates.make(["alpha.test"])
        let expired = try TestCertificates.make(["alpha.test", "www.alpha.test"], days: -1)
        let soon = try TestCertificates.make(["alpha.test", "www.alpha.test"], days: 5)
        func check(_ tls: String) throws -> (status: Int32, output: String) {
            let directory = try TemporaryDirectory.make()
            defer { try? FileManager.default.removeItem(at: directory) }
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("site"), withIntermediateDirectories: true)
            try Data("not a certificate\n".utf8).write(to: directory.appendingPathComponent("garbage.pem"))
            let yaml = """
                listen: [{ port: 0, tls: true }]
                hosts:
                  alpha.test:
                    default: true
                    aliases: [www.alpha.test]
                    tls: \(tls)
                    static: site
                """
            let file = directory.appendingPathComponent("berth.yaml")
            try Data(yaml.utf8).write(to: file)
            let result = try Tool.execute(BerthProcess.binary.path, ["check", "--config", file.path])
            return (result.status, result.text + result.stderr)
        }

        let mismatch = try check("{ certificate: \(alpha.certificate), key: \(other.key) }")
        #expect(mismatch.status == 1)
        #expect(mismatch.output.contains("host 'alpha.test'") && mismatch.output.contains("key file '\(other.key)' does not match certificate file '\(alpha.certificate)'"), "\(mismatch.output)")

        let uncovered = try check("{ certificate: \(narrow.certificate), key: \(narrow.key) }")
        #expect(uncovered.status == 1)
        #expect(uncovered.output.contains("certificate file '\(narrow.certificate)' does not cover 'www.alpha.test' (it covers: alpha.test)"), "\(uncovered.output)")

        let past = try check("{ certificate: \(expired.certificate), key: \(expired.key) }")
        #expect(past.status == 1)
        #expect(past.output.contains("host 'alpha.test'") && past.output.contains("certificate file '\(expired.certificate)' expired on"), "\(past.output)")

        let garbage = try check("{ certificate: garbage.pem, key: \(alpha.key) }")
        #expect(garbage.status == 1)
        #expect(garbage.output.contains("garbage.pem' holds no PEM certificate"), "\(garbage.output)")

        let missing = try check("{ certificate: nowhere.pem, key: \(alpha.key) }")
        #expect(missing.status == 1)
        #expect(missing.output.contains("certificate file") && missing.output.contains("nowhere.pem' does not exist"), "\(missing.output)")

        let expiring = try check("{ certificate: \(soon.certificate), key: \(soon.key) }")
        #expect(expiring.status == 0, "\(expiring.output)")
        #expect(expiring.output.contains("warning") && expiring.output.contains("host 'alpha.test'")
            && expiring.output.contains("certificate file '\(soon.certificate)' expires on"), "\(expiring.output)")

        // `run` refuses the same way, before binding anything.
        let yaml = """
            listen: [{ address: 127.0.0.1, port: 0, tls: true }]
            logs: { error: stderr }
            hosts:
              alpha.test: { default: true, tls: { certificate: \(alpha.certificate), key: \(other.key) }, static: site }
            """
        #expect(throws: BerthProcessError.self) {
            _ = try BerthProcess(yaml: yaml, files: ["site/index.html": "x"])
        }
    }
}
