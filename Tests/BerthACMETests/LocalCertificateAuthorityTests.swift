@testable import BerthACME
import Foundation
import Testing
import X509
#if canImport(Glibc)
import Glibc
#endif

@Suite struct LocalCertificateAuthorityTests {
    @Test func theRootIsMadeOnceAndSignsLeavesThatVerify() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let storage = CertificateStorage(root: folder.path)
        let ca = try LocalCertificateAuthority.loadOrCreate(in: storage)
        let again = try LocalCertificateAuthority.loadOrCreate(in: storage)
        #expect(ca.root == again.root)
        #expect(ca.rootCertificatePath == folder.path + "/local-ca/root.pem")
        var info = stat()
        stat(folder.path + "/local-ca/root.key", &info)
        #expect(info.st_mode & 0o777 == 0o600)

        let now = Date()
        let leaf = try again.issue(for: ["shop.localhost", "*.shop.localhost"], now: now)
        #expect(leaf.names == ["shop.localhost", "*.shop.localhost"])
        #expect(leaf.chain.count == 2)
        // Certificate times have whole seconds.
        #expect(abs(leaf.notAfter.timeIntervalSince(now) - LocalCertificateAuthority.leafLifetime) < 1)

        // What a client that trusts the root concludes, per RFC 5280 and RFC 6125 rules.
        for name in ["shop.localhost", "api.shop.localhost"] {
            var verifier = Verifier(rootCertificates: CertificateStore([ca.root])) {
                RFC5280Policy(validationTime: now)
                ServerIdentityPolicy(serverHostname: name, serverIP: nil)
            }
            let result = await verifier.validate(leafCertificate: leaf.leaf, intermediates: CertificateStore())
            guard case .validCertificate = result else {
                Issue.record("\(name): \(result)")
                continue
            }
        }
        var stranger = Verifier(rootCertificates: CertificateStore([ca.root])) {
            RFC5280Policy(validationTime: now)
            ServerIdentityPolicy(serverHostname: "other.localhost", serverIP: nil)
        }
        let refused = await stranger.validate(leafCertificate: leaf.leaf, intermediates: CertificateStore())
        if case .validCertificate = refused { Issue.record("a name outside the certificate was accepted") }
    }
}
