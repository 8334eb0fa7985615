import BerthConfig
import Foundation
import NIOHTTP1
import Testing

@testable import BerthServer

/// Managed certificates in a worker: challenge answers before routing, certificates read from
/// the coordinator's files and swapped into live TLS contexts.
@Suite("Managed TLS: HTTP-01 answers and certificate swaps")
struct ManagedTLSTests {
    static let location = SourceLocation(file: "berth.yaml", line: 3, column: 10)

    func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-managed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func route(_ path: String, method: HTTPMethod = .GET, host: VirtualHost, challenges: ACMEChallengeFiles) -> RequestRouter.Decision {
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: ["Host": "shop.test"])
        guard case .success(let accepted) = RequestHeadCheck.check(head, limits: ConnectionLimits(Limits())) else {
            Issue.record("head refused")
            return .misdirected
        }
        return RequestRouter.route(head, accepted, hosts: HostLookup(HostTable(hosts: [host])), isSecure: false, challenges: challenges)
    }

    @Test func aPublishedAnswerWinsOverTheHTTPSRedirectAndTheRoutes() throws {
        let answers = try self.folder()
        try "tok-EN_1.thumbprint".write(toFile: answers + "/tok-EN_1", atomically: true, encoding: .utf8)
        try "not a token".write(toFile: answers + "/tok.EN", atomically: true, encoding: .utf8)
        let redirect = HTTPSRedirect(port: HTTPSPort([ListenerConfig(port: 8443, tls: true, location: Self.location)]))
        let host = VirtualHost(
            name: "shop.test", names: ["shop.test"], isDefault: true,
            routes: [PathRoute(prefix: "/", handlers: [RedirectHandler(redirect: .init(target: "/elsewhere", status: 301, keepPath: false))],
                               headers: [], errorPages: [:])],
            accessLog: nil, httpsRedirect: redirect)
        let challenges = ACMEChallengeFiles(folder: answers)

        guard case .answer(let message, _) = self.route("/.well-known/acme-challenge/tok-EN_1", host: host, challenges: challenges),
              case .bytes(let body) = message.body
        else {
            Issue.record("the answer was not served")
            return
        }
        #expect(message.status == 200)
        #expect(String(buffer: body) == "tok-EN_1.thumbprint")
        #expect(message.field("content-type") == "application/octet-stream")
        if case .answer(let head, _) = self.route("/.well-known/acme-challenge/tok-EN_1", method: .HEAD, host: host, challenges: challenges) {
            #expect(head.status == 200)
        } else {
            Issue.record("HEAD was not answered")
        }

        // Not published, not a token, not a GET: the request goes on as any other (here the
        // redirect to HTTPS, which leaves the challenge path alone, then the route).
        for (path, method) in [("/.well-known/acme-challenge/unknown", HTTPMethod.GET),
                               ("/.well-known/acme-challenge/tok.EN", .GET),
                               ("/.well-known/acme-challenge/tok-EN_1", .POST)] {
            guard case .handlers(let request) = self.route(path, method: method, host: host, challenges: challenges) else {
                Issue.record("\(method) \(path) was answered before routing")
                continue
            }
            #expect(request.route.prefix == "/")
        }
        if case .answer(let message, _) = self.route("/page", host: host, challenges: challenges) {
            #expect(message.status == 308)
        } else {
            Issue.record("plain HTTP was not redirected")
        }
    }

    func managedConfig(storage: String) -> ServerConfig {
        var host = VirtualHostConfig(name: "shop.test", aliases: ["www.shop.test"], isDefault: true, routes: [], location: Self.location)
        host.managedTLS = ManagedTLSConfig(issuer: .acme, location: Self.location)
        var config = ServerConfig(sourceFile: storage + "/berth.yaml", listeners: [ListenerConfig(port: 0, location: Self.location)], hosts: [host])
        config.acme = ACMEConfig(storage: storage, location: Self.location)
        return config
    }

    func place(_ pair: (certificate: String, key: String), at files: (chain: String, key: String)) throws {
        let folder = (files.chain as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Renamed into place, as the coordinator writes them.
        for (source, target) in [(pair.key, files.key), (pair.certificate, files.chain)] {
            let temporary = target + ".tmp"
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: source, toPath: temporary)
            guard rename(temporary, target) == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    @Test func placeholderThenIssuedThenRenewedAreSwappedIntoLiveContexts() throws {
        let storage = try self.folder()
        let config = self.managedConfig(storage: storage)
        let layout = ManagedTLSLayout(config: config)
        let managed = try #require(ManagedCertificates(config: config, logger: .init(label: "test")))
        #expect(managed.scan().certificates.isEmpty)
        #expect(managed.hostsWithoutCertificate == ["shop.test"])

        let names = ["shop.test", "www.shop.test"]
        try self.place(try UnitCertificates.make(names, days: 1), at: layout.placeholderFiles(host: "shop.test"))
        let first = managed.scan()
        #expect(first.changed && first.certificates.map(\.certificateFile) == [layout.placeholderFiles(host: "shop.test").chain])
        #expect(!managed.scan().changed)
        let profile = TLSContexts.Profile(minimumVersion: .tls12, http2: true)
        let live = LiveTLSContexts(try TLSContexts(certificates: first.certificates, profile: profile))
        let before = live.context(forServerName: "shop.test")

        let issued = layout.certificateFiles(host: "shop.test", issuer: .acme)
        try self.place(try UnitCertificates.make(names, days: 30), at: issued)
        let second = managed.scan()
        #expect(second.changed && second.certificates.map(\.certificateFile) == [issued.chain])
        live.replace(with: try TLSContexts(certificates: second.certificates, profile: profile))
        #expect(live.context(forServerName: "www.shop.test") !== before)
        #expect(live.current.selection(forServerName: "shop.test").certificateFile == issued.chain)

        // A pair that does not match (a key renamed in before its chain) keeps what serves.
        try self.place((try UnitCertificates.make(["other.test"], days: 30).certificate,
                        try UnitCertificates.make(names, days: 31).key), at: issued)
        let torn = managed.scan()
        #expect(!torn.changed && torn.certificates.count == 1)
        // The renewal completes.
        try self.place(try UnitCertificates.make(names, days: 31), at: issued)
        let renewed = managed.scan()
        #expect(renewed.changed)
        #expect(renewed.certificates.first?.notValidAfter ?? .distantPast > second.certificates.first?.notValidAfter ?? .distantFuture)
    }

    @Test func layoutNamesFilesLikeTheCoordinatorsStorage() {
        let layout = ManagedTLSLayout(storage: "/srv/acme")
        #expect(layout.certificateFiles(host: "shop.test", issuer: .acme).chain == "/srv/acme/certificates/shop.test/chain.pem")
        #expect(layout.certificateFiles(host: "*.app.localhost", issuer: .local).key == "/srv/acme/internal/certificates/_.app.localhost/key.pem")
        #expect(layout.placeholderFiles(host: "shop.test").chain == "/srv/acme/placeholders/certificates/shop.test/chain.pem")
        #expect(ManagedTLSLayout.fileName(forHost: "../x") == "_.._x")
    }
}
