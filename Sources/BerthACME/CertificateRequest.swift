import Crypto
import Foundation
import SwiftASN1
import X509

/// The CSR sent to finalize an order (RFC 8555 §7.4): the names go in a subjectAltName
/// extension request; the subject carries the first name as common name for old clients'
/// sake, since CAs take the names from the extension.
public enum CertificateRequest {
    public static func der(names: [String], key: P256.Signing.PrivateKey) throws -> [UInt8] {
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
        }
        let request = try CertificateSigningRequest(
            version: .v1,
            subject: try DistinguishedName { CommonName(names.first ?? "") },
            privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes(
                [try CertificateSigningRequest.Attribute(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        return serializer.serializedBytes
    }
}

/// The self-signed certificate that answers a TLS-ALPN-01 challenge (RFC 8737 §3): offered only
/// to a client that asks for the `acme-tls/1` protocol, for exactly one name, with the
/// critical id-pe-acmeIdentifier extension holding SHA-256 of the key authorization.
public struct TLSALPNChallengeCertificate: Sendable {
    /// RFC 8737 §6.1: the ALPN protocol ID the CA offers, and the only one to answer it with.
    public static let applicationProtocol = "acme-tls/1"
    /// RFC 8737 §6.2: id-pe-acmeIdentifier, 1.3.6.1.5.5.7.1.31.
    public static let acmeIdentifierOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    public let name: String
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey

    public init(name: String, keyAuthorization: String, now: Date = Date()) throws {
        let key = P256.Signing.PrivateKey()
        // §3: the extension's value is the DER encoding of an OCTET STRING of the digest.
        let digest = SHA256.hash(data: Array(keyAuthorization.utf8))
        var serializer = DER.Serializer()
        try serializer.serialize(ASN1OctetString(contentBytes: ArraySlice(digest)))
        let subject = try DistinguishedName { CommonName(name) }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames([.dnsName(name)])
            Certificate.Extension(oid: TLSALPNChallengeCertificate.acmeIdentifierOID, critical: true,
                                  value: ArraySlice(serializer.serializedBytes))
        }
        self.name = name
        self.privateKey = key
        self.certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(7 * 86400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
    }

    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    public var privateKeyPEM: String { privateKey.pemRepresentation }
}
