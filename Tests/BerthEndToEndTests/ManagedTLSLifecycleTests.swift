import BerthTestPebble
import Foundation
import Testing

/// Managed certificates across the process model: `tls: internal`, a reload that adds a host,
/// and the coordinator itself killed mid-issuance.
@Suite("Managed TLS across reloads and faults", .serialized)
struct ManagedTLSLifecycleTests {
    @Test func internalHostsGetCertificatesFromTheLocalRootThatBerthCAPathPrints() throws {
        let berth = try BerthProcess(yaml: """
            listen:
              - { address: 127.0.0.1, port: 0 }
              - { address: 127.0.0.1, port: 0, tls: true }
            logs: { error: stderr, access: off }
            hosts:
              app.localhost:
                default: true
                aliases: [www.app.localhost]
                tls: internal
                static: site
            """, files: ACMETests.files)
        #expect(berth.waitForLog(containing: "certificate issued by the local CA", timeout: 20) != nil, "\(berth.errorLog)")
        let printed = try Tool.run(BerthProcess.binary.path, ["ca", "path", "--config", berth.configPath])
        let root = printed.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(root == berth.directory.appendingPathComponent("acme/local-ca/root.pem").path)
        #expect(try berth.waitForIssuer(containing: "Berth local CA", serverName: "www.app.localhost"), "\(berth.errorLog)")
        // A client that trusts the root verifies the chain and the name.
        let verified = try berth.tlsHandshake(serverName: "app.localhost", arguments: [
            "-CAfile", root, "-verify_return_error", "-verify_hostname", "app.localhost"])
        #expect(verified.text.contains("Verify return code: 0 (ok)"), "\(verified.text)\(verified.stderr)")
        #expect(try berth.curl("/", host: "app.localhost", over: .https2).text == "<h1>Shop</h1>")
        #expect(berth.stop() == 0)
    }

    @Test func berthCAPathSaysWhenThereIsNoRootYet() throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("berth.yaml")
        try Data("listen: [{ port: 0 }, { address: 127.0.0.1, port: 0, tls: true }]\nhosts:\n  a.localhost: { default: true, tls: internal, static: . }\n".utf8).write(to: config)
        let result = try Tool.execute(BerthProcess.binary.path, ["ca", "path", "--config", config.path])
        #expect(result.status == 1)
        #expect(result.stderr == "berth: no local CA root at '\(directory.path)/acme/local-ca/root.pem' yet: it is made "
                + "when berth first runs with a 'tls: internal' host\n")
    }

    @Test func aReloadThatAddsAHostGetsItACertificateAndKeepsTheOthers() throws {
        let pebble = try PebbleServer()
        let storage = try ACMETests.storage()
        let berth = try ACMETests.start(pebble, storage: storage)
        #expect(berth.waitForLog(containing: "certificate issued http.host=\(ACMETests.host)", timeout: 60) != nil, "\(berth.errorLog)")
        let added = "blog.acme.test"
        try berth.rewriteConfig(ACMETests.yaml(pebble, storage: storage) + """

              \(added):
                tls: auto
                static: site
            """)
        berth.signal(SIGHUP)
        #expect(berth.waitForLog(containing: " reloaded ", timeout: 30) != nil, "\(berth.errorLog)")
        // A new coordinator for the new plan: the first host's certificate is reused, the new
        // host's is ordered and validated through the new generation's workers.
        #expect(berth.waitForLog(containing: "certificate issued http.host=\(added)", timeout: 60) != nil, "\(berth.errorLog)")
        #expect(try berth.waitForIssuer(containing: "Pebble", serverName: added), "\(berth.errorLog)")
        #expect(try berth.presentedCertificate(serverName: ACMETests.host).issuer.contains("Pebble"))
        #expect(berth.errorLog.occurrences(of: "certificate issued http.host=\(ACMETests.host)") == 1, "\(berth.errorLog)")
        #expect(berth.errorLog.contains("stored certificate reused http.host=\(ACMETests.host)"))
        #expect(berth.stop() == 0)
        pebble.stop()
    }

    @Test func aCoordinatorKilledDuringIssuanceIsRestartedAndFinishes() throws {
        let pebble = try PebbleServer(sleep: 4)
        let berth = try ACMETests.start(pebble, storage: try ACMETests.storage(), workers: 1)
        let started = try #require(berth.waitForLog(containing: "certificate coordinator started", timeout: 10))
        let pid = try #require(started.split(separator: " ").first { $0.hasPrefix("acme.pid=") }.flatMap { Int32($0.dropFirst(9)) })
        #expect(berth.waitForLog(containing: "acme challenge answered", timeout: 60) != nil, "\(berth.errorLog)")
        kill(pid, SIGKILL)
        #expect(berth.waitForLog(containing: "certificate coordinator exited (killed by SIGKILL); restarting it", timeout: 10) != nil,
                "\(berth.errorLog)")
        #expect(berth.waitForLog(timeout: 10) { $0.occurrences(of: "certificate coordinator started") == 2 }, "\(berth.errorLog)")
        #expect(berth.waitForLog(containing: "certificate issued", timeout: 60) != nil, "\(berth.errorLog)\n\(pebble.logs)")
        #expect(try berth.waitForIssuer(containing: "Pebble", serverName: ACMETests.host))
        // Plain HTTP served throughout, and the master is still in charge of one coordinator.
        #expect(try berth.curl("/", host: ACMETests.host, over: .http1).text == "<h1>Shop</h1>")
        #expect(berth.stop() == 0)
        pebble.stop()
    }
}
