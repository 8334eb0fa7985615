import BerthTestPebble
import Foundation
import Testing

/// Automatic HTTPS against Pebble with real HTTP-01 validation on berth's own plain listener:
/// issuance, reuse after a restart, renewal under load, a refusing CA, a worker crash.
@Suite("ACME: certificates issued, reused, renewed and swapped in", .serialized)
struct ACMETests {
    static let host = "shop.acme.test"

    static func yaml(_ pebble: PebbleServer, storage: String, host: String = ACMETests.host, workers: Int = 2,
                     tls: String = "auto") -> String {
        """
        listen:
          - { address: 127.0.0.1, port: \(pebble.httpPort) }
          - { address: 127.0.0.1, port: 0, tls: true }
        workers: \(workers)
        threads: 1
        logs: { error: stderr, access: off }
        admin: { port: 0 }
        acme:
          email: admin@berth.test
          directory: \(pebble.directoryURL)
          directory_ca: \(pebble.caFile)
          storage: \(storage)
        hosts:
          \(host):
            default: true
            aliases: [www.\(host)]
            tls: \(tls)
            static: site
        """
    }

    static let files = ["site/index.html": "<h1>Shop</h1>"]

    static func start(_ pebble: PebbleServer, storage: String, host: String = ACMETests.host, workers: Int = 2,
                      tls: String = "auto", environment: [String: String] = [:]) throws -> BerthProcess {
        try BerthProcess(yaml: yaml(pebble, storage: storage, host: host, workers: workers, tls: tls), files: files,
                         environment: environment)
    }

    static func storage() throws -> String {
        try TemporaryDirectory.make().appendingPathComponent("acme").path
    }

    /// The host redirects plain HTTP to HTTPS: validation over plain HTTP works all the same.
    @Test func issuesOverHTTP01AndSwapsOutThePlaceholder() throws {
        let pebble = try PebbleServer()
        let storage = try Self.storage()
        let berth = try Self.start(pebble, storage: storage, tls: "{ certificate: auto, redirect_http: true, hsts: true }")
        // Until the order completes, handshakes get the placeholder and the log says why.
        #expect(berth.waitForLog(containing: "temporary self-signed certificate", timeout: 10) != nil)
        #expect(berth.waitForLog(containing: "certificate issued", timeout: 60) != nil, "\(berth.errorLog)\n\(pebble.logs)")
        #expect(berth.errorLog.contains("acme order placed") && berth.errorLog.contains("acme challenge answered"))
        #expect(try berth.waitForIssuer(containing: "Pebble", serverName: Self.host), "\(berth.errorLog)")
        #expect(try berth.presentedCertificate(serverName: "www.\(Self.host)").issuer.contains("Pebble"))
        let secure = try berth.curl("/", host: Self.host, over: .https2)
        #expect(secure.text == "<h1>Shop</h1>" && secure.header("strict-transport-security") == "max-age=31536000")
        let plain = try berth.curl("/", host: Self.host, over: .http1)
        #expect(plain.status == 308 && plain.header("location") == "https://\(Self.host):\(berth.securePort)/")
        // The answer is gone once validated: the path is an ordinary 404 again.
        let token = try #require(pebble.logs.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "/.well-known/acme-challenge/") else { return nil }
            return String(line[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }.first)
        #expect(try berth.curl("/.well-known/acme-challenge/\(token)", host: Self.host, over: .http1).status == 404)

        let port = try #require(berth.adminPort)
        #expect(try AdminClient.waitForMetric("berth_acme_orders_total{outcome=\"success\"}", atLeast: 1, port: port, timeout: 5))
        let metrics = try AdminClient.get("/metrics", port: port).text
        let expiry = try #require(metrics.split(separator: "\n").first {
            $0.hasPrefix("berth_tls_certificate_expiry_timestamp_seconds{host=\"\(Self.host)\"} ")
        })
        #expect((Double(expiry.split(separator: " ").last ?? "") ?? 0) > Date().timeIntervalSince1970 + 86400)
        #expect(berth.stop() == 0)
        pebble.stop()
    }

    @Test func aRestartReusesTheStoredCertificate() throws {
        let pebble = try PebbleServer()
        let storage = try Self.storage()
        let first = try Self.start(pebble, storage: storage)
        #expect(first.waitForLog(containing: "certificate issued", timeout: 60) != nil, "\(first.errorLog)")
        #expect(try first.waitForIssuer(containing: "Pebble", serverName: Self.host))
        let serial = try first.presentedCertificate(serverName: Self.host).serial
        #expect(first.stop() == 0)

        let second = try Self.start(pebble, storage: storage)
        #expect(second.waitForLog(containing: "stored certificate reused", timeout: 10) != nil, "\(second.errorLog)")
        // Workers load it before they listen: no placeholder, no order.
        #expect(try second.presentedCertificate(serverName: Self.host).serial == serial)
        let port = try #require(second.adminPort)
        #expect(try AdminClient.get("/metrics", port: port).text.contains("berth_acme_orders_total{outcome=\"success\"} 0"))
        #expect(!second.errorLog.contains("ordering") && !second.errorLog.contains("temporary self-signed"), "\(second.errorLog)")
        #expect(second.stop() == 0)
        pebble.stop()
    }

    @Test func renewsAShortLivedCertificateUnderSteadyLoad() throws {
        // 30 s certificates: renewed at two thirds, 20 s after issuance.
        let pebble = try PebbleServer(validitySeconds: 30)
        let berth = try Self.start(pebble, storage: try Self.storage())
        #expect(berth.waitForLog(containing: "certificate issued", timeout: 60) != nil, "\(berth.errorLog)")
        #expect(try berth.waitForIssuer(containing: "Pebble", serverName: Self.host))
        let before = try berth.presentedCertificate(serverName: Self.host)
        // Each worker swapped its placeholder for the first certificate; the renewal is two more.
        #expect(berth.waitForLog(timeout: 5) { $0.occurrences(of: "certificate swapped in") >= 2 })
        let swaps = berth.errorLog.occurrences(of: "certificate swapped in")

        // Long-lived HTTP/2 connections made before the swap keep going on their certificate.
        let load = try BackgroundTool(try Tool.path(Tool.h2load), [
            "-D", "28", "-c", "4", "-m", "4", "-H", ":authority: \(Self.host)", "https://127.0.0.1:\(berth.securePort)/"])
        #expect(berth.waitForLog(containing: "certificate renewed", timeout: 45) != nil, "\(berth.errorLog)")
        #expect(berth.waitForLog(timeout: 5) { $0.occurrences(of: "certificate swapped in") >= swaps + 2 }, "\(berth.errorLog)")
        let after = try berth.presentedCertificate(serverName: Self.host)
        #expect(after.serial != before.serial && after.issuer.contains("Pebble"))
        let summary = load.wait().output
        let counts = try #require(summary.split(separator: "\n").first { $0.hasPrefix("requests:") }, "\(summary)")
        // "requests: N total, N started, N done, N succeeded, 0 failed, 0 errored, 0 timeout"
        #expect(counts.contains(" 0 failed, 0 errored, 0 timeout"), "\(counts)")
        let succeeded = counts.split(separator: ",").first { $0.hasSuffix("succeeded") }
            .flatMap { Int($0.split(separator: " ").first ?? "") } ?? 0
        #expect(succeeded > 1000, "\(counts)")
        #expect(berth.stop() == 0)
        pebble.stop()
    }

    @Test func aRefusingCAIsLoggedAndRetriedWhileThePlaceholderServes() throws {
        let blocked = "blocked.acme.test"
        let pebble = try PebbleServer(blocked: [blocked])
        let berth = try Self.start(pebble, storage: try Self.storage(), host: blocked, workers: 1,
                                   environment: ["BERTH_ACME_RETRY_SECONDS": "1"])
        let failure = try #require(berth.waitForLog(containing: "certificate order failed", timeout: 30), "\(berth.errorLog)")
        #expect(failure.contains("rejectedIdentifier"), "\(failure)")
        // Retried after the back-off (1 s, then 2 s), still refused.
        #expect(berth.waitForLog(containing: "acme.failures_in_a_row=2", timeout: 15) != nil, "\(berth.errorLog)")
        let presented = try berth.presentedCertificate(serverName: blocked)
        #expect(presented.subject.contains("Berth placeholder"), "\(presented)")
        #expect(try berth.curl("/", host: blocked, over: .http1).text == "<h1>Shop</h1>")
        #expect(try berth.curl("/", host: blocked, over: .https1).text == "<h1>Shop</h1>")
        let port = try #require(berth.adminPort)
        #expect(try AdminClient.waitForMetric("berth_acme_orders_total{outcome=\"failure\"}", atLeast: 2, port: port, timeout: 5))
        #expect(berth.stop() == 0)
        pebble.stop()
    }

    @Test func aWorkerKilledDuringIssuanceDoesNotStopIt() throws {
        // Pebble waits up to 3 s before it validates: the worker dies while the answer is out.
        // If Pebble's request meets the dying worker, that validation fails and the order is
        // retried after the back-off, shortened here; either way issuance must complete.
        let pebble = try PebbleServer(sleep: 4)
        let berth = try Self.start(pebble, storage: try Self.storage(), environment: ["BERTH_ACME_RETRY_SECONDS": "1"])
        #expect(berth.waitForLog(containing: "acme challenge answered", timeout: 60) != nil, "\(berth.errorLog)")
        let victim = try #require(berth.workerPIDs.first)
        kill(victim, SIGKILL)
        #expect(berth.waitForLog(containing: "certificate issued", timeout: 60) != nil, "\(berth.errorLog)\n\(pebble.logs)")
        #expect(berth.waitForLog(timeout: 10) { $0.occurrences(of: "worker ready") >= 3 })
        // Every worker, the replacement included, serves the new certificate.
        for _ in 0..<6 {
            #expect(try berth.waitForIssuer(containing: "Pebble", serverName: Self.host))
        }
        #expect(berth.stop() == 0)
        pebble.stop()
    }
}

extension BerthProcess {
    struct PresentedCertificate: CustomStringConvertible {
        var subject = ""
        var issuer = ""
        var serial = ""
        var description: String { "subject \(subject), issuer \(issuer), serial \(serial)" }
    }

    /// The certificate a new handshake for `serverName` is shown.
    func presentedCertificate(serverName: String) throws -> PresentedCertificate {
        let handshake = try self.tlsHandshake(serverName: serverName)
        let parsed = try Tool.execute(Tool.openssl, ["x509", "-noout", "-subject", "-issuer", "-serial"], input: handshake.stdout)
        var result = PresentedCertificate()
        for line in parsed.text.split(separator: "\n") {
            if line.hasPrefix("subject=") { result.subject = String(line.dropFirst(8)) }
            if line.hasPrefix("issuer=") { result.issuer = String(line.dropFirst(7)) }
            if line.hasPrefix("serial=") { result.serial = String(line.dropFirst(7)) }
        }
        return result
    }

    /// Workers look for new certificates every second: waits until a handshake shows one.
    func waitForIssuer(containing text: String, serverName: String, timeout: TimeInterval = 10) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try self.presentedCertificate(serverName: serverName).issuer.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        return false
    }
}
