/// What a CA must find to validate a name, handed to whatever serves it: in Berth, the
/// workers' listeners; in tests, a small responder of their own.
public enum ChallengeAnswer: Sendable {
    /// RFC 8555 §8.3: `GET /.well-known/acme-challenge/<token>` on port 80 of `name` answers
    /// 200 with the key authorization as its body.
    case http01(name: String, token: String, keyAuthorization: String)
    /// RFC 8737 §3: a TLS handshake for `name` that negotiates `acme-tls/1` presents this
    /// certificate.
    case tlsALPN01(TLSALPNChallengeCertificate)

    public var type: ACMEChallengeType {
        switch self {
        case .http01: return .http01
        case .tlsALPN01: return .tlsALPN01
        }
    }

    public var name: String {
        switch self {
        case .http01(let name, _, _): return name
        case .tlsALPN01(let certificate): return certificate.name
        }
    }

    /// The path an HTTP-01 answer is served at.
    public static func http01Path(token: String) -> String {
        "/.well-known/acme-challenge/\(token)"
    }
}

/// Makes challenge answers visible to the CA before Berth tells the CA to look (§7.5.1), and
/// takes them down afterwards.
public protocol ChallengeResponder: Sendable {
    /// The challenge types this responder can serve (its listeners decide).
    var supportedChallenges: Set<ACMEChallengeType> { get }
    /// Returns once the answer is served: the CA may look at once.
    func publish(_ answer: ChallengeAnswer) async throws
    func withdraw(_ answer: ChallengeAnswer) async
}
