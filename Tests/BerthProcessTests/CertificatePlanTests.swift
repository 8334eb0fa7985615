import BerthConfig
import BerthProcess
import Foundation
import Testing

/// What the master and the certificate coordinator say to each other.
@Suite("Certificate coordinator plan and reports")
struct CertificatePlanTests {
    func config(acmeLine: Int = 2, hosts: [(String, ManagedTLSConfig.Issuer?)]) -> ServerConfig {
        let location = SourceLocation(file: "/srv/berth.yaml", line: 1, column: 1)
        var config = ServerConfig(sourceFile: "/srv/berth.yaml", listeners: [ListenerConfig(port: 80, location: location)],
                                  hosts: hosts.map { name, issuer in
                                      var host = VirtualHostConfig(name: name, aliases: ["www." + name], routes: [], location: location)
                                      host.managedTLS = issuer.map { ManagedTLSConfig(issuer: $0, location: location) }
                                      return host
                                  })
        config.acme = ACMEConfig(storage: "/srv/acme", location: SourceLocation(file: "/srv/berth.yaml", line: acmeLine, column: 7))
        return config
    }

    @Test func onlyManagedHostsMakeAPlanAndMovingTheBlockChangesNothing() throws {
        #expect(CertificatePlan(config: self.config(hosts: [("a.test", nil)])) == nil)
        let plan = try #require(CertificatePlan(config: self.config(hosts: [("a.test", .acme), ("b.test", nil), ("c.localhost", .local)])))
        #expect(plan.hosts.map(\.name) == ["a.test", "c.localhost"])
        #expect(plan.hosts[0].names == ["a.test", "www.a.test"])
        #expect(plan.storage == "/srv/acme" && plan.answersHTTP01)
        #expect(CertificatePlan(config: self.config(acmeLine: 9, hosts: [("a.test", .acme), ("b.test", nil), ("c.localhost", .local)])) == plan)
        #expect(CertificatePlan(config: self.config(hosts: [("a.test", .acme)])) != plan)
        let line = try plan.line()
        #expect(line.last == UInt8(ascii: "\n") && !line.dropLast().contains(UInt8(ascii: "\n")))
        #expect(try ConfigJSON.decode(CertificatePlan.self, from: Data(line.dropLast())) == plan)
    }

    @Test func reportsSurviveTheirLines() {
        let reports: [CoordinatorReport] = [
            .ready, .certificate(host: "a.test", notAfter: 1_900_000_000.5), .order(outcome: "success"),
            .order(outcome: "failure"), .failed("storage '/srv/acme':\nnot writable"),
        ]
        for report in reports {
            let line = report.line
            #expect(line.hasSuffix("\n") && line.dropLast().firstIndex(of: "\n") == nil)
            #expect(CoordinatorReport(line: Substring(line.dropLast())) == report)
        }
        #expect(CoordinatorReport(line: "certificate a.test soon") == nil)
        #expect(CoordinatorReport(line: "hello") == nil)
    }
}
