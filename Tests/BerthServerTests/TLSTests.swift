import BerthConfig
import BerthConfigFile
import Foundation
import NIOHPACK
import NIOHTTP1
import Testing
@testable import BerthServer

/// A self-signed certificate made with the openssl command line, cached per run.
enum UnitCertificates {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [String: (certificate: String, key: String)] = [:]
    private static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-unit-certs-\(getpid())-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// `names`: subjectAltName entries ("a.test", "*.a.test", "IP:127.0.0.1"); `days` < 0: expired.
    static func make(_ names: [String], days: Int = 30) throws -> (certificate: String, key: String) {
        let id = names.joined(separator: ",") + "/\(days)"
        lock.lock()
        defer { lock.unlock() }
        if let known = made[id] { return known }
        let stem = directory.appendingPathComponent("c\(made.count)").path
        let san = names.map { $0.hasPrefix("IP:") ? $0 : "DNS:" + $0 }.joined(separator: ",")
        try run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-subj", "/CN=\(names[0])", "-addext", "subjectAltName=\(san)",
                 "-keyout", stem + ".key", "-out", stem + ".csr"])
        try run(["x509", "-req", "-in", stem + ".csr", "-signkey", stem + ".key", "-days", String(days),
                 "-copy_extensions", "copy", "-out", stem + ".pem"])
        made[id] = (stem + ".pem", stem + ".key")
        return made[id]!
    }

    private static func run(_ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw Failed(description: "/usr/bin/openssl is not installed (apt-get install openssl)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(description: "openssl \(arguments) failed") }
    }
}

@Suite("Certificates, SNI selection, HTTPS redirects, HTTP/2 stream limits")
struct TLSTests {
    static let location = SourceLocation(file: "berth.yaml", line: 3, column: 10)

    func host(_ name: String, aliases: [String] = [], isDefault: Bool = false,
              certificate: (certificate: String, key: String)) -> VirtualHostConfig {
        VirtualHostConfig(name: name, aliases: aliases, isDefault: isDefault, routes: [],
                          tls: TLSConfig(certificate: certificate.certificate, key: certificate.key, location: Self.location),
                          location: Self.location)
    }

    @Test func wildcardsCoverOneLabelAndIPAddressesNeedIPEntries() {
        let dns = ["example.test", "*.example.test"]
        let ips = [IPAddressText.bytes("127.0.0.1")!, IPAddressText.bytes("::1")!]
        #expect(CertificateCheck.covers("example.test", dnsNames: dns, ipAddresses: ips))
        #expect(CertificateCheck.covers("WWW.Example.Test", dnsNames: dns, ipAddresses: ips))
        #expect(!CertificateCheck.covers("a.b.example.test", dnsNames: dns, ipAddresses: ips))
        #expect(!CertificateCheck.covers("example.org", dnsNames: dns, ipAddresses: ips))
        #expect(CertificateCheck.covers("*.example.test", dnsNames: dns, ipAddresses: ips))
        #expect(!CertificateCheck.covers("*.other.test", dnsNames: dns, ipAddresses: ips))
        #expect(CertificateCheck.covers("127.0.0.1", dnsNames: dns, ipAddresses: ips))
        #expect(CertificateCheck.covers("[::1]", dnsNames: dns, ipAddresses: ips))
        #expect(!CertificateCheck.covers("10.0.0.1", dnsNames: dns, ipAddresses: ips))
        #expect(IPAddressText.text(IPAddressText.bytes("[::1]")!) == "::1")
    }

    @Test func goodCertificateLoadsWithItsNames() throws {
        let made = try UnitCertificates.make(["shop.test", "*.shop.test", "IP:127.0.0.1"])
        let report = CertificateCheck.check([self.host("shop.test", aliases: ["www.shop.test", "127.0.0.1"], certificate: made)])
        #expect(report.errors.isEmpty && report.warnings.isEmpty, "\(report.errors)")
        let certificate = try #require(report.certificates.first)
        #expect(certificate.dnsNames == ["shop.test", "*.shop.test"])
        #expect(certificate.ipAddresses == [[127, 0, 0, 1]])
    }

    @Test func problemsNameTheHostAndTheFile() throws {
        let good = try UnitCertificates.make(["a.test"])
        let other = try UnitCertificates.make(["b.test"])
        let expired = try UnitCertificates.make(["a.test"], days: -1)
        let soon = try UnitCertificates.make(["a.test"], days: 3)

        let mismatch = CertificateCheck.check([self.host("a.test", certificate: (good.certificate, other.key))])
        #expect(mismatch.errors == ["berth.yaml:3:10: host 'a.test': key file '\(other.key)' does not match certificate file '\(good.certificate)'"])

        let uncovered = CertificateCheck.check([self.host("a.test", aliases: ["c.test"], certificate: good)])
        #expect(uncovered.errors == ["berth.yaml:3:10: host 'a.test': certificate file '\(good.certificate)' does not cover 'c.test' (it covers: a.test)"])

        let past = CertificateCheck.check([self.host("a.test", certificate: expired)])
        #expect(past.errors.count == 1 && past.errors[0].contains("expired on"), "\(past.errors)")

        let expiring = CertificateCheck.check([self.host("a.test", certificate: soon)])
        #expect(expiring.errors.isEmpty && expiring.certificates.count == 1)
        #expect(expiring.warnings.count == 1 && expiring.warnings[0].contains("expires on") && expiring.warnings[0].contains("renew it soon"))

        let swapped = CertificateCheck.check([self.host("a.test", certificate: (good.key, good.certificate))])
        #expect(swapped.errors.count == 2, "\(swapped.errors)")
        #expect(swapped.errors.allSatisfy { $0.hasPrefix("berth.yaml:3:10: host 'a.test': ") })
    }

    @Test func sniPicksHostThenWildcardThenCoveringNameThenDefault() throws {
        let shop = try UnitCertificates.make(["shop.test", "www.shop.test"])
        let wild = try UnitCertificates.make(["*.example.test"])
        let fallback = try UnitCertificates.make(["localhost"])
        let report = CertificateCheck.check([
            self.host("shop.test", aliases: ["www.shop.test"], certificate: shop),
            self.host("*.example.test", certificate: wild),
            self.host("localhost", isDefault: true, certificate: fallback),
        ])
        #expect(report.errors.isEmpty, "\(report.errors)")
        let contexts = try TLSContexts(certificates: report.certificates, profile: .init(minimumVersion: .tls12, http2: true))
        func file(_ name: String?) -> String { contexts.selection(forServerName: name).certificateFile }
        #expect(file("shop.test") == shop.certificate)
        #expect(file("WWW.SHOP.TEST.") == shop.certificate)
        #expect(file("a.example.test") == wild.certificate)
        #expect(file("a.b.example.test") == wild.certificate)
        #expect(file("example.test") == fallback.certificate)
        #expect(file("unknown.test") == fallback.certificate)
        #expect(file(nil) == fallback.certificate)
        #expect(file("") == fallback.certificate)
    }

    @Test func redirectLocationKeepsPathAndQueryAndNeverEchoesUnknownNames() {
        let port = HTTPSPort([ListenerConfig(port: 8443, tls: true, location: Self.location)])
        let redirect = HTTPSRedirect(port: port)
        let host = VirtualHost(name: "shop.test", names: ["shop.test", "*.shop.test"], isDefault: true, routes: [], accessLog: nil)
        #expect(redirect.location(uri: "/a/b?c=d", path: "/a/b", authority: "shop.test:8080", host: host) == "https://shop.test:8443/a/b?c=d")
        #expect(redirect.location(uri: "/", path: "/", authority: "WWW.shop.test", host: host) == "https://www.shop.test:8443/")
        #expect(redirect.location(uri: "/x", path: "/x", authority: "evil.test", host: host) == "https://shop.test:8443/x")
        #expect(redirect.location(uri: "/.well-known/acme-challenge/t", path: "/.well-known/acme-challenge/t", authority: "shop.test", host: host) == nil)
        port.bound(443)
        #expect(redirect.location(uri: "http://shop.test/p?q", path: "/p", authority: "shop.test", host: host) == "https://shop.test/p?q")
        #expect(HTTPSRedirect.pathAndQuery(of: "http://h?q") == "/?q")
        #expect(HTTPSRedirect.pathAndQuery(of: "*") == "/")
    }

    /// `swift run berth` serves HTTPS on a fresh clone: the committed certificate passes every
    /// check for every example host, and is far from expiry.
    @Test func exampleCertificateCoversTheExampleHosts() throws {
        let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try ConfigLoader.load(file: repository.appendingPathComponent("conf/berth.yaml").path)
        let report = CertificateCheck.check(config.hosts)
        #expect(report.errors.isEmpty && report.warnings.isEmpty, "\(report.errors) \(report.warnings)")
        #expect(report.certificates.count == config.hosts.count)
        let notAfter = try #require(report.certificates.first?.notValidAfter)
        #expect(notAfter > Date().addingTimeInterval(365 * 86_400))
    }

    @Test func http2FieldBlocksAreMeasuredLikeHTTP1Heads() {
        var limits = ConnectionLimits(Limits())
        limits.headerBytes = 100
        limits.headerCount = 3
        func check(_ fields: [(String, String)], uri: String = "/") -> HTTPResponseStatus? {
            let head = HTTPRequestHead(version: .http2, method: .GET, uri: uri, headers: HTTPHeaders(fields))
            if case .failure(let rejected) = RequestHeadCheck.check(head, limits: limits) { return rejected.status }
            return nil
        }
        #expect(check([("a", "1"), ("b", "2")], uri: "/" + String(repeating: "p", count: 500)) == nil)
        #expect(check([("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]) == .requestHeaderFieldsTooLarge)
        // "a: " + value + CRLF, as HTTP/1.1 would carry it: 100 bytes fit, 101 do not.
        #expect(check([("a", String(repeating: "x", count: 95))]) == nil)
        #expect(check([("a", String(repeating: "x", count: 96))]) == .requestHeaderFieldsTooLarge)
    }
}
