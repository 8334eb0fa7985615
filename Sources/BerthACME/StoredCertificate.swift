import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate chain and its key as kept in storage, parsed, with the questions a restart
/// asks of it: does it cover these names, is it still valid, is it due for renewal.
public struct StoredCertificate: Sendable {
    public let chainPEM: String
    public let keyPEM: String
    /// Leaf first, as RFC 8555 §9.1 delivers and TLS sends it.
    public let chain: [Certificate]
    public let privateKey: P256.Signing.PrivateKey

    public init(chainPEM: String, keyPEM: String) throws {
        let documents = try PEMDocument.parseMultiple(pemString: chainPEM)
        let chain = try documents.filter { $0.discriminator == "CERTIFICATE" }.map { try Certificate(pemDocument: $0) }
        guard !chain.isEmpty else { throw ACMEError.badCertificate("no certificate in the PEM chain") }
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        // The key and chain are renamed into place one after the other: a crash in between
        // leaves a pair that does not match, which must count as no certificate at all.
        guard chain[0].publicKey == Certificate.PublicKey(key.publicKey) else {
            throw ACMEError.badCertificate("the key does not belong to the certificate")
        }
        self.chainPEM = chainPEM
        self.keyPEM = keyPEM
        self.chain = chain
        self.privateKey = key
    }

    public var leaf: Certificate { chain[0] }
    public var notBefore: Date { leaf.notValidBefore }
    public var notAfter: Date { leaf.notValidAfter }

    /// The DNS names of the leaf's subjectAltName, lowercased; the subject's common name is
    /// not consulted (RFC 9525 §6.3 ignores it when SANs are present, and ACME CAs always
    /// put every name in the SAN).
    public var names: [String] {
        guard let sans = try? leaf.extensions.subjectAlternativeNames else { return [] }
        return sans.compactMap { name in
            if case .dnsName(let dns) = name { return dns.lowercased() }
            return nil
        }
    }

    /// Every name in `wanted` is listed exactly (certificates Berth orders have no wildcards).
    public func covers(_ wanted: [String]) -> Bool {
        let have = Set(names)
        return wanted.allSatisfy { have.contains($0.lowercased()) }
    }

    /// Whether a restart may keep serving it instead of ordering anew: it covers the names and
    /// is inside its validity period. Renewal time is the schedule's business, not this.
    public func isUsable(for wanted: [String], at now: Date = Date()) -> Bool {
        covers(wanted) && notBefore <= now && now < notAfter
    }
}
