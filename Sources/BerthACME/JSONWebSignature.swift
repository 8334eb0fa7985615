import Foundation

/// A JWS in the flattened JSON serialization (RFC 7515 §7.2.2), the only form ACME accepts
/// (RFC 8555 §6.2). The protected header carries `alg`, `nonce` and `url`, and either the
/// account's `jwk` (only for newAccount and revocation by certificate key, §6.2) or its `kid`.
public struct JSONWebSignature: Sendable, Equatable, Codable {
    public var protected: String
    public var payload: String
    public var signature: String

    /// Who signs: a key not yet bound to an account shows itself; an account names its URL.
    public enum Signer: Sendable {
        case jwk(AccountKey)
        case kid(AccountKey, accountURL: String)

        var key: AccountKey {
            switch self {
            case .jwk(let key), .kid(let key, _): return key
            }
        }
    }

    struct ProtectedHeader: Codable, Equatable {
        var alg = "ES256"
        var jwk: JSONWebKey?
        var kid: String?
        var nonce: String
        var url: String
    }

    /// `payload` nil is a POST-as-GET (RFC 8555 §6.3): the payload is the empty string, not
    /// the encoding of `{}` or of `""`.
    public init(payload: [UInt8]?, url: String, nonce: String, signer: Signer) throws {
        var header = ProtectedHeader(nonce: nonce, url: url)
        switch signer {
        case .jwk(let key): header.jwk = key.jwk
        case .kid(_, let accountURL): header.kid = accountURL
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        protected = Base64URL.encode(try encoder.encode(header))
        self.payload = payload.map { Base64URL.encode($0) } ?? ""
        // RFC 7515 §5.1: the signing input is ASCII(protected || '.' || payload).
        signature = Base64URL.encode(try signer.key.sign(Array("\(protected).\(self.payload)".utf8)))
    }

    /// The request body, as sent with `Content-Type: application/jose+json` (RFC 8555 §6.2).
    public func body() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }
}
