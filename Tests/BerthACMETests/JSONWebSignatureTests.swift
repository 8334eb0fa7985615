@testable import BerthACME
import Crypto
import Foundation
import Testing

@Suite struct JSONWebSignatureTests {
    /// A fixed P-256 key; its coordinates and thumbprint below were computed independently
    /// (Python's `cryptography` and `hashlib`).
    static let fixedKey = try! AccountKey(P256.Signing.PrivateKey(
        rawRepresentation: Base64URL.decode("jpsQnnGQmL-YBIffH1136cLNK0bwNBHyTFzCRxbYx7A")!))

    @Test func base64URLMatchesRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE",
                       "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        // The URL-safe alphabet (§5), never '+', '/' or padding.
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("Zg==") == nil)
        #expect(Base64URL.decode("Z") == nil)
    }

    @Test func jwkHoldsThePublicCoordinates() {
        let jwk = JSONWebSignatureTests.fixedKey.jwk
        #expect(jwk.x == "1_7xaA2M1F53GfL8Oxrh7EqwEJkuJdjIIEXKiYA7cAM")
        #expect(jwk.y == "eC9oIPKLHJEBopucnSS7upICkFnfv2GE0K-i39nU6aM")
        #expect(jwk.canonicalJSON == #"{"crv":"P-256","kty":"EC","x":"1_7xaA2M1F53GfL8Oxrh7EqwEJkuJdjIIEXKiYA7cAM","y":"eC9oIPKLHJEBopucnSS7upICkFnfv2GE0K-i39nU6aM"}"#)
    }

    /// RFC 7638 §3: SHA-256 of the canonical members.
    @Test func thumbprintAndKeyAuthorization() {
        let key = JSONWebSignatureTests.fixedKey
        #expect(key.thumbprint == "e7T2IkTJUry8dJ-rDBBQSdB0oisl8dyvpkUZ9hIQdCg")
        // RFC 8555 §8.1: token || '.' || base64url(Thumbprint(accountKey)).
        #expect(key.keyAuthorization(token: "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA")
                == "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.e7T2IkTJUry8dJ-rDBBQSdB0oisl8dyvpkUZ9hIQdCg")
    }

    @Test func newAccountRequestsCarryTheKeyItself() throws {
        let key = AccountKey()
        let jws = try JSONWebSignature(payload: Array(#"{"termsOfServiceAgreed":true}"#.utf8),
                                       url: "https://ca.test/new-account", nonce: "n1", signer: .jwk(key))
        let header = try decodeHeader(jws)
        #expect(header["alg"] as? String == "ES256")
        #expect(header["nonce"] as? String == "n1")
        #expect(header["url"] as? String == "https://ca.test/new-account")
        #expect(header["kid"] == nil)
        let jwk = try #require(header["jwk"] as? [String: String])
        #expect(jwk == ["crv": "P-256", "kty": "EC", "x": key.jwk.x, "y": key.jwk.y])
        #expect(Base64URL.decode(jws.payload) == Array(#"{"termsOfServiceAgreed":true}"#.utf8))
        try expectValidSignature(jws, key: key)
    }

    @Test func accountRequestsNameTheAccountAndPostAsGetHasAnEmptyPayload() throws {
        let key = AccountKey()
        let jws = try JSONWebSignature(payload: nil, url: "https://ca.test/authz/1", nonce: "n2",
                                       signer: .kid(key, accountURL: "https://ca.test/acct/7"))
        let header = try decodeHeader(jws)
        #expect(header["kid"] as? String == "https://ca.test/acct/7")
        #expect(header["jwk"] == nil)
        #expect(jws.payload == "")
        try expectValidSignature(jws, key: key)
        // The body is the flattened JSON serialization: exactly these three members.
        let body = try JSONSerialization.jsonObject(with: Data(try jws.body())) as? [String: String]
        #expect(body.map { Set($0.keys) } == ["protected", "payload", "signature"])
    }

    private func decodeHeader(_ jws: JSONWebSignature) throws -> [String: Any] {
        let bytes = try #require(Base64URL.decode(jws.protected))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// ES256 signatures are r || s, 64 bytes (RFC 7518 §3.4), over `protected.payload`.
    private func expectValidSignature(_ jws: JSONWebSignature, key: AccountKey) throws {
        let raw = try #require(Base64URL.decode(jws.signature))
        #expect(raw.count == 64)
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: raw)
        #expect(key.privateKey.publicKey.isValidSignature(signature, for: Array("\(jws.protected).\(jws.payload)".utf8)))
    }
}
