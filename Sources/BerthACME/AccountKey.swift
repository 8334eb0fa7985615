import Crypto
import Foundation

/// The key that identifies an ACME account (RFC 8555 §7.3): a P-256 key, so every request is
/// signed with ES256 (RFC 7518 §3.4), which every ACME CA accepts.
public struct AccountKey: Sendable {
    public let privateKey: P256.Signing.PrivateKey

    public init(_ privateKey: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) {
        self.privateKey = privateKey
    }

    /// A PKCS #8 PEM key, as `pemRepresentation` writes it.
    public init(pem: String) throws {
        self.privateKey = try P256.Signing.PrivateKey(pemRepresentation: pem)
    }

    public var pem: String { privateKey.pemRepresentation }

    /// The public key as a JWK (RFC 7517 §4, RFC 7518 §6.2.1): the coordinates are the two
    /// 32-byte halves of the raw representation, base64url-encoded.
    public var jwk: JSONWebKey {
        let raw = Array(privateKey.publicKey.rawRepresentation)
        return JSONWebKey(x: Base64URL.encode(raw[0..<32]), y: Base64URL.encode(raw[32..<64]))
    }

    /// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace.
    /// It is the account's part of every key authorization (RFC 8555 §8.1).
    public var thumbprint: String {
        Base64URL.encode(SHA256.hash(data: Array(jwk.canonicalJSON.utf8)))
    }

    /// The key authorization of a challenge token (RFC 8555 §8.1): `token || '.' || thumbprint`.
    public func keyAuthorization(token: String) -> String {
        "\(token).\(thumbprint)"
    }

    /// JWS signature of ES256: r and s as two fixed 32-byte integers (RFC 7518 §3.4), which is
    /// exactly swift-crypto's raw representation, not the DER form TLS uses.
    func sign(_ input: [UInt8]) throws -> [UInt8] {
        Array(try privateKey.signature(for: input).rawRepresentation)
    }
}

/// An elliptic-curve public key in JWK form (RFC 7517), P-256 only.
public struct JSONWebKey: Sendable, Equatable, Codable {
    public var crv = "P-256"
    public var kty = "EC"
    public var x: String
    public var y: String

    public init(x: String, y: String) {
        self.x = x
        self.y = y
    }

    /// The members RFC 7638 §3.2 requires for an EC key, sorted, without whitespace.
    public var canonicalJSON: String {
        #"{"crv":"\#(crv)","kty":"\#(kty)","x":"\#(x)","y":"\#(y)"}"#
    }
}
