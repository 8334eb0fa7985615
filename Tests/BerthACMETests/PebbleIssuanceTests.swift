@testable import BerthACME
import BerthTestPebble
import Foundation
import Logging
import SwiftASN1
import Testing
import X509
#if canImport(Glibc)
import Glibc
#endif

/// Issuance against Pebble on loopback, with real validation of HTTP-01 and TLS-ALPN-01 by
/// connections from Pebble to the test's responders. Fails, never skips, without Pebble.
@Suite(.timeLimit(.minutes(5)))
struct PebbleIssuanceTests {
    let logger = Logger(label: "test.acme.pebble")

    /// Starts responders and Pebble pointed at them, runs `body`, stops everything.
    private func withPebble(
        responder: TestChallengeResponder? = nil,
        _ body: (PebbleServer, TestChallengeResponder, CertificateStorage) async throws -> Void
    ) async throws {
        let responder = if let responder { responder } else { try await TestChallengeResponder() }
        let pebble: PebbleServer
        do {
            pebble = try PebbleServer(httpPort: responder.httpPort, tlsPort: responder.tlsPort)
        } catch {
            await responder.stop()
            throw error
        }
        let storageFolder = try TemporaryFolder()
        defer {
            pebble.stop()
            storageFolder.remove()
        }
        do {
            try await body(pebble, responder, CertificateStorage(root: storageFolder.path + "/acme"))
        } catch {
            await responder.stop()
            Issue.record("\(error)\n\(pebble.logs)")
            return
        }
        await responder.stop()
    }

    private func issuer(_ pebble: PebbleServer, _ storage: CertificateStorage, _ responder: TestChallengeResponder,
                        preferences: [ACMEChallengeType]) throws -> CertificateIssuer {
        var issuer = try CertificateIssuer.make(
            directoryURL: pebble.directoryURL, trust: .caFile(pebble.caFile), storage: storage,
            email: "admin@berth.test", preferences: preferences, responder: responder, logger: logger)
        issuer.validationDeadline = .seconds(60)
        return issuer
    }

    @Test func http01IssuesAndARestartReusesAccountAndCertificate() async throws {
        try await withPebble { pebble, responder, storage in
            let names = ["shop.berth.test", "www.shop.berth.test"]
            let first = try issuer(pebble, storage, responder, preferences: [.http01, .tlsALPN01])
            let outcome = try await first.certificate(for: names)
            guard case .issued(let issued) = outcome else {
                Issue.record("expected an order, storage was empty")
                return
            }
            #expect(responder.publishedAnswers.allSatisfy { $0.hasPrefix("http-01 ") })
            #expect(Set(responder.publishedAnswers.map { String($0.dropFirst(8)) }).isSubset(of: Set(names)))

            // What is on disk parses with swift-certificates and names exactly the hosts.
            let folder = storage.certificateFolder(name: "shop.berth.test")
            let chainPEM = try String(contentsOfFile: folder + "/chain.pem", encoding: .utf8)
            let leaf = try Certificate(pemDocument: try #require(try PEMDocument.parseMultiple(pemString: chainPEM).first))
            let sans = try #require(try leaf.extensions.subjectAlternativeNames)
            #expect(Set(sans.compactMap { if case .dnsName(let name) = $0 { name } else { nil } }) == Set(names))
            #expect(issued.chain.count >= 2)  // leaf and Pebble's intermediate
            #expect(leaf.notValidAfter > Date())
            var info = stat()
            stat(folder + "/key.pem", &info)
            #expect(info.st_mode & 0o777 == 0o600)
            let accountURL = try #require(try storage.accountURL(directoryURL: pebble.directoryURL))

            // A restart: new client, same storage. The certificate is reused without an order,
            // and the stored key finds the same account (onlyReturnExisting), none is created.
            let published = responder.publishedAnswers.count
            let second = try issuer(pebble, storage, responder, preferences: [.http01])
            guard case .reused(let reused) = try await second.certificate(for: names) else {
                Issue.record("a valid stored certificate was ordered again")
                return
            }
            #expect(reused.chainPEM == issued.chainPEM)
            #expect(responder.publishedAnswers.count == published)
            #expect(try await second.account() == accountURL)
            #expect(second.client.accountKey.thumbprint == first.client.accountKey.thumbprint)

            // A name the stored certificate lacks means a new order, on the same account.
            let more = try await second.certificate(for: names + ["api.shop.berth.test"], storageName: "shop.berth.test")
            guard case .issued(let renewed) = more else {
                Issue.record("a certificate lacking a name was reused")
                return
            }
            #expect(renewed.covers(names + ["api.shop.berth.test"]))
            #expect(try storage.accountURL(directoryURL: pebble.directoryURL) == accountURL)
        }
    }

    @Test func tlsALPN01Issues() async throws {
        let responder = try await TestChallengeResponder(supporting: [.tlsALPN01])
        try await withPebble(responder: responder) { pebble, responder, storage in
            let issuer = try issuer(pebble, storage, responder, preferences: [.http01, .tlsALPN01])
            let certificate = try await issuer.issue(for: ["alpn.berth.test"])
            #expect(certificate.names == ["alpn.berth.test"])
            #expect(responder.publishedAnswers == ["tls-alpn-01 alpn.berth.test"])
        }
    }

    /// A CA that cannot validate: the error carries Pebble's problem document, and nothing is
    /// stored.
    @Test func aFailedValidationReportsTheCAsProblem() async throws {
        let responder = try await TestChallengeResponder(supporting: [.http01], answersCorrectly: false)
        try await withPebble(responder: responder) { pebble, responder, storage in
            let issuer = try issuer(pebble, storage, responder, preferences: [.http01])
            do {
                _ = try await issuer.issue(for: ["refused.berth.test"])
                Issue.record("issuance succeeded without an answer")
            } catch let error as ACMEError {
                guard case .challengeFailed(let name, let type, let problem) = error else {
                    Issue.record("unexpected error: \(error)")
                    return
                }
                #expect(name == "refused.berth.test")
                #expect(type == .http01)
                #expect(problem?.acmeErrorName != nil)
                #expect(problem?.detail?.isEmpty == false)
            }
            #expect(try storage.certificate(name: "refused.berth.test") == nil)
        }
    }
}
