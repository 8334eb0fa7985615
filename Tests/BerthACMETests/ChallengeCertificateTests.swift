@testable import BerthACME
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@Suite struct ChallengeCertificateTests {
    /// RFC 8737 §3: one dNSName, and a critical id-pe-acmeIdentifier whose value is the DER
    /// OCTET STRING of SHA-256 over the key authorization.
    @Test func tlsALPNCertificateCarriesTheAcmeIdentifier() throws {
        let keyAuthorization = "token.thumbprint"
        let answer = try TLSALPNChallengeCertificate(name: "shop.test", keyAuthorization: keyAuthorization)
        let parsed = try Certificate(pemEncoded: try answer.certificatePEM)
        let sans = try #require(try parsed.extensions.subjectAlternativeNames)
        #expect(Array(sans) == [.dnsName("shop.test")])
        let acme = try #require(parsed.extensions[oid: [1, 3, 6, 1, 5, 5, 7, 1, 31]])
        #expect(acme.critical)
        let octets = try ASN1OctetString(derEncoded: acme.value)
        #expect(Array(octets.bytes) == Array(SHA256.hash(data: Array(keyAuthorization.utf8))))
        #expect(parsed.publicKey == Certificate.PublicKey(answer.privateKey.publicKey))
        #expect(TLSALPNChallengeCertificate.applicationProtocol == "acme-tls/1")
    }

    @Test func csrRequestsEveryNameAndIsSignedByTheKey() throws {
        let key = P256.Signing.PrivateKey()
        let der = try CertificateRequest.der(names: ["shop.test", "www.shop.test"], key: key)
        let csr = try CertificateSigningRequest(derEncoded: der)
        #expect(csr.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(csr.publicKey.isValidSignature(csr.signature, for: csr))
        let extensions = try #require(try csr.attributes.extensionRequest?.extensions)
        let sans = try #require(try extensions.subjectAlternativeNames)
        #expect(Array(sans) == [.dnsName("shop.test"), .dnsName("www.shop.test")])
    }

    /// The example of RFC 9773 §4.1.
    @Test func renewalInfoIdentifierFollowsRFC9773() throws {
        let ca = try TestCertificateAuthority()
        let now = Date()
        let key = P256.Signing.PrivateKey()
        let aki: [UInt8] = [0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                            0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4]
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: [0x00, 0x87, 0x65, 0x43, 0x21]),
            publicKey: .init(key.publicKey), notValidBefore: now, notValidAfter: now + 60,
            issuer: ca.name, subject: ca.name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { AuthorityKeyIdentifier(keyIdentifier: ArraySlice(aki)) },
            issuerPrivateKey: .init(ca.key))
        #expect(RenewalInfo.certificateID(of: certificate) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    }

    @Test func renewalInfoWindowsAreRead() throws {
        let json = #"{"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00.5Z"},"explanationURL":"https://ca.test/why"}"#
        let body = try JSONDecoder().decode(RenewalInfo.Body.self, from: Data(json.utf8))
        let info = try RenewalInfo(body: body, retryAfter: .seconds(21600))
        #expect(info.windowStart == Date(timeIntervalSince1970: 1_735_790_400))
        #expect(info.windowEnd == Date(timeIntervalSince1970: 1_735_876_800.5))
        #expect(info.explanationURL == "https://ca.test/why")
        let backwards = RenewalInfo.Body(suggestedWindow: .init(start: "2025-01-03T00:00:00Z", end: "2025-01-02T00:00:00Z"))
        #expect(throws: ACMEError.self) { try RenewalInfo(body: backwards, retryAfter: nil) }
    }
}
