/// The JSON objects of RFC 8555 §7.1, holding only the fields Berth acts on. Unknown fields
/// are ignored (§7.1: clients "MUST ignore" them), so a CA adding fields breaks nothing.

/// §7.1.1: the URLs of every other resource; the only URL a client is configured with.
public struct ACMEDirectory: Sendable, Equatable, Decodable {
    public var newNonce: String
    public var newAccount: String
    public var newOrder: String
    public var revokeCert: String?
    public var keyChange: String?
    /// RFC 9773 §4: present when the CA offers ACME Renewal Information.
    public var renewalInfo: String?
    public var meta: Meta?

    public struct Meta: Sendable, Equatable, Decodable {
        public var termsOfService: String?
        public var website: String?
        public var externalAccountRequired: Bool?
    }
}

/// §7.1.6: every status a resource can have; which ones apply depends on the resource.
public enum ACMEStatus: String, Sendable, Equatable, Codable {
    case pending, ready, processing, valid, invalid, revoked, deactivated, expired
}

/// §7.1.4 and §9.7.7: Berth orders `dns` identifiers only (no IP addresses, RFC 8738).
public struct ACMEIdentifier: Sendable, Hashable, Codable {
    public var type: String
    public var value: String

    public init(dns name: String) {
        type = "dns"
        value = name
    }
}

/// §7.1.2.
public struct ACMEAccount: Sendable, Equatable, Decodable {
    public var status: ACMEStatus
    public var contact: [String]?
    public var orders: String?
}

/// §7.1.3.
public struct ACMEOrder: Sendable, Equatable, Decodable {
    public var status: ACMEStatus
    public var identifiers: [ACMEIdentifier]
    public var authorizations: [String]
    public var finalize: String
    public var certificate: String?
    public var error: ACMEProblem?
}

/// §7.1.4.
public struct ACMEAuthorization: Sendable, Equatable, Decodable {
    public var identifier: ACMEIdentifier
    public var status: ACMEStatus
    public var challenges: [ACMEChallenge]
    public var wildcard: Bool?
}

/// §8: one way to prove control of an identifier.
public struct ACMEChallenge: Sendable, Equatable, Decodable {
    public var type: String
    public var url: String
    public var status: ACMEStatus
    public var token: String?
    public var error: ACMEProblem?
}

/// The challenge types Berth can answer, in the spelling of the IANA registry (§9.7.8).
public enum ACMEChallengeType: String, Sendable, Hashable, CaseIterable, Codable {
    /// RFC 8555 §8.3: a file under `/.well-known/acme-challenge/` on port 80.
    case http01 = "http-01"
    /// RFC 8737: a special certificate offered on port 443 to clients asking for `acme-tls/1`.
    case tlsALPN01 = "tls-alpn-01"
}

/// A problem document (RFC 7807, RFC 8555 §6.7): what the CA says went wrong, shown to the
/// user whole, since its `detail` is usually the only useful explanation.
public struct ACMEProblem: Sendable, Equatable, Decodable, CustomStringConvertible {
    public var type: String?
    public var title: String?
    public var detail: String?
    public var status: Int?
    public var identifier: ACMEIdentifier?
    /// §6.7.1: per-identifier problems of an order that failed for several names.
    public var subproblems: [ACMEProblem]?

    public init(type: String?, detail: String?, status: Int? = nil) {
        self.type = type
        self.detail = detail
        self.status = status
    }

    /// The short name of an ACME error type (`badNonce` for
    /// `urn:ietf:params:acme:error:badNonce`), nil for types from other namespaces.
    public var acmeErrorName: String? {
        let prefix = "urn:ietf:params:acme:error:"
        guard let type, type.hasPrefix(prefix) else { return nil }
        return String(type.dropFirst(prefix.count))
    }

    public var description: String {
        var text = type ?? "about:blank"
        if let detail, !detail.isEmpty { text += ": \(detail)" } else if let title { text += ": \(title)" }
        if let identifier { text = "\(identifier.value): \(text)" }
        for sub in subproblems ?? [] { text += "; \(sub)" }
        return text
    }
}
