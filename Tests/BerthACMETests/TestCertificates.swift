import Crypto
import Foundation
import SwiftASN1
import X509

/// Certificates made for tests: a CA and leaves it signs, with the names and lifetimes a test
/// needs. Pebble's own HTTPS certificate comes from here too.
struct TestCertificateAuthority {
    let key: P256.Signing.PrivateKey
    let name: DistinguishedName
    let certificate: Certificate

    init(commonName: String = "Berth test CA") throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        self.key = key
        self.name = name
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: .init(key))
    }

    /// A leaf for `dnsNames` and `ipAddresses`, with its key.
    func leaf(dnsNames: [String], ipAddresses: [[UInt8]] = [], notBefore: Date = Date() - 3600,
              notAfter: Date = Date() + 86400, serial: [UInt8]? = nil) throws -> (Certificate, P256.Signing.PrivateKey) {
        let leafKey = P256.Signing.PrivateKey()
        let names = dnsNames.map { GeneralName.dnsName($0) }
            + ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        let leafCertificate = try Certificate(
            version: .v3, serialNumber: serial.map { Certificate.SerialNumber(bytes: $0) } ?? .init(),
            publicKey: .init(leafKey.publicKey), notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: name, subject: try DistinguishedName { CommonName(dnsNames.first ?? "leaf") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(key))
        return (leafCertificate, leafKey)
    }

    var pem: String { get throws { try certificate.serializeAsPEM().pemString } }
}

extension Certificate {
    var pem: String { get throws { try serializeAsPEM().pemString } }
}

/// A fresh folder under /tmp, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        var template = Array("/tmp/berth-acme-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
