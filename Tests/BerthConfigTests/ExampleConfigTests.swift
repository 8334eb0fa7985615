import BerthConfig
import BerthConfigFile
import Foundation
import Testing

/// The example shipped in `conf/` must always load cleanly: it is the first thing a new user runs.
@Suite struct ExampleConfigTests {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func exampleConfigLoadsWithoutErrorsOrWarnings() throws {
        let file = ExampleConfigTests.repository.appendingPathComponent("conf/berth.yaml").path
        let config: ServerConfig
        do {
            config = try ConfigLoader.load(file: file)
        } catch {
            Issue.record("conf/berth.yaml has errors:\n\(error)")
            return
        }
        #expect(config.warnings.isEmpty, "\(config.warnings)")
        #expect(config.listeners.map(\.endpointDescription) == ["127.0.0.1:8080", "[::1]:8080", "127.0.0.1:8443", "[::1]:8443"])
        #expect(config.listeners.map(\.tls) == [false, false, true, true])
        // HTTPS works on a fresh clone: every host names the committed example certificate.
        let certificate = ExampleConfigTests.repository.appendingPathComponent("conf/tls/example-localhost.pem").standardizedFileURL.path
        #expect(config.hosts.allSatisfy { $0.tls?.certificate == certificate }, "\(config.hosts.map(\.tls))")
        #expect(config.hosts.map(\.name) == ["localhost", "alpha.localhost", "beta.localhost", "notes.localhost", "hello.localhost"])
        #expect(config.apps.map(\.name) == ["notes", "hello"])
        #expect(config.host(named: "www.alpha.localhost")?.name == "alpha.localhost")
        #expect(config.host(named: "nobody.localhost")?.name == "localhost")
        #expect(config.logs.access == .standardOutput && config.logs.error == .standardOutput)
        // The static sites have their own 404 pages; the app hosts answer 404s themselves.
        for host in config.hosts.prefix(3) {
            #expect(host.routes.contains { $0.errorPages[404] != nil }, "host \(host.name) has no 404 page")
        }
        let sites = ExampleConfigTests.repository.appendingPathComponent("sites").standardizedFileURL.path
        let alpha = config.hosts[1], beta = config.hosts[2]
        #expect(alpha.routes.map(\.prefix) == ["/"])
        #expect(alpha.routes.first?.handler == .staticFiles(StaticConfig(root: sites + "/alpha/public",
                                                                         cacheControl: "max-age=300")))
        #expect(beta.routes.map(\.prefix) == ["/old-blog", "/"])
        #expect(beta.routes.first?.handler == .redirect(RedirectConfig(target: "/blog", keepPath: true)))
    }
}
