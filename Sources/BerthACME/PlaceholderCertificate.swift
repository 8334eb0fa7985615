import Crypto
import Foundation
import SwiftASN1
import X509

/// The self-signed certificate a managed host presents until its first real one arrives:
/// HTTPS handshakes complete (a browser warns, as it must), so clients see a certificate
/// problem instead of a refused connection, and plain HTTP is not affected.
///
/// It is short-lived, so a forgotten placeholder cannot pass for a certificate for long,
/// and it says what it is in its subject.
public enum PlaceholderCertificate {
    public static let lifetime: TimeInterval = 86400
    /// A placeholder with less than this left is made again.
    public static let renewBefore: TimeInterval = 6 * 3600

    public static func make(for names: [String], now: Date = Date()) throws -> StoredCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Berth placeholder: certificate not issued yet")
            CommonName(names.first ?? "placeholder")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(lifetime),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
            },
            issuerPrivateKey: .init(key))
        return try StoredCertificate(chainPEM: try certificate.serializeAsPEM().pemString + "\n",
                                     keyPEM: key.pemRepresentation)
    }

    /// Writes a placeholder for `names` into `storage` unless one covering them lasts a while yet.
    /// Returns whether it wrote one.
    @discardableResult
    public static func ensure(in storage: CertificateStorage, name: String, names: [String],
                              now: Date = Date()) throws -> Bool {
        if let existing = try storage.certificate(name: name), existing.covers(names),
           existing.notAfter.timeIntervalSince(now) > renewBefore {
            return false
        }
        try storage.save(try make(for: names, now: now), name: name)
        return true
    }
}
