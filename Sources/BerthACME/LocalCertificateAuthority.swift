import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificate authority behind `tls: internal`: a root made once and kept in storage,
/// which signs short-lived certificates for development names (`*.localhost`, `*.test`).
/// A user trusts the root once (its file is `rootCertificatePath`) and every local site is
/// then HTTPS without warnings, as with Caddy's local CA or mkcert.
public struct LocalCertificateAuthority: Sendable {
    public let root: Certificate
    let rootKey: P256.Signing.PrivateKey
    public let rootCertificatePath: String

    /// Leaves live a week and are renewed by the same schedule as ACME ones (at two thirds).
    public static let leafLifetime: TimeInterval = 7 * 86400
    /// The root lives ten years: replacing it means trusting a new one by hand.
    public static let rootLifetime: TimeInterval = 10 * 365 * 86400

    /// The root from `storage`, or a new one written there (key 0600) on first use.
    public static func loadOrCreate(in storage: CertificateStorage, now: Date = Date()) throws -> LocalCertificateAuthority {
        let folder = storage.root + "/local-ca"
        let certificatePath = folder + "/root.pem", keyPath = folder + "/root.key"
        if let certificatePEM = try AtomicFile.read(certificatePath), let keyPEM = try AtomicFile.read(keyPath) {
            do {
                let root = try Certificate(pemEncoded: String(decoding: certificatePEM, as: UTF8.self))
                let key = try P256.Signing.PrivateKey(pemRepresentation: String(decoding: keyPEM, as: UTF8.self))
                guard root.publicKey == Certificate.PublicKey(key.publicKey) else {
                    throw ACMEError.storage(path: keyPath, reason: "the key does not belong to \(certificatePath)")
                }
                return LocalCertificateAuthority(root: root, rootKey: key, rootCertificatePath: certificatePath)
            } catch let error as ACMEError {
                throw error
            } catch {
                throw ACMEError.storage(path: folder, reason: "unreadable local CA: \(error)")
            }
        }
        let key = P256.Signing.PrivateKey()
        let suffix = Base64URL.encode(SHA256.hash(data: key.publicKey.rawRepresentation).prefix(4))
        let name = try DistinguishedName {
            OrganizationName("Berth")
            CommonName("Berth local CA \(suffix)")
        }
        let root = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(rootLifetime),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                // It signs leaves only, never another CA (RFC 5280 §4.2.1.9).
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        try AtomicFile.makeFolder(folder, mode: 0o755, owner: storage.owner)
        try AtomicFile.write(Array(key.pemRepresentation.utf8), to: keyPath, mode: 0o600)
        try AtomicFile.write(Array(try root.serializeAsPEM().pemString.utf8), to: certificatePath, mode: 0o644)
        return LocalCertificateAuthority(root: root, rootKey: key, rootCertificatePath: certificatePath)
    }

    /// A leaf for `names` (DNS names, wildcards allowed), chain = leaf + root.
    public func issue(for names: [String], now: Date = Date()) throws -> StoredCertificate {
        let key = P256.Signing.PrivateKey()
        let rootKeyID = try root.extensions.subjectKeyIdentifier?.keyIdentifier
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: min(now.addingTimeInterval(LocalCertificateAuthority.leafLifetime), root.notValidAfter),
            issuer: root.subject, subject: try DistinguishedName { CommonName(names.first ?? "localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
                AuthorityKeyIdentifier(keyIdentifier: rootKeyID)
            },
            issuerPrivateKey: .init(rootKey))
        let chain = try leaf.serializeAsPEM().pemString + "\n" + root.serializeAsPEM().pemString + "\n"
        return try StoredCertificate(chainPEM: chain, keyPEM: key.pemRepresentation)
    }
}
