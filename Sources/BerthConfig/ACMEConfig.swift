/// Where certificates for `tls: auto` hosts come from: the top-level `acme:` block. One ACME
/// account per CA directory serves every host.
///
/// ```yaml
/// acme:
///   email: admin@example.org        # account contact (optional); the CA may mail about problems
///   directory: https://acme-v02.api.letsencrypt.org/directory   # the default: Let's Encrypt
///   directory_ca: tls/pebble.pem    # PEM roots to trust for the directory's own HTTPS, instead
///                                   # of the system's: a private or test CA
///   storage: acme                   # folder for the account key, certificate keys and chains;
///                                   # default "acme" next to this file; keys are 0600
///   challenges: [http-01, tls-alpn-01]   # what to answer, in order of preference (the default)
/// ```
public struct ACMEConfig: Sendable, Equatable, Codable {
    /// Without `mailto:`.
    public var email: String?
    /// The CA's directory URL (RFC 8555 §7.1.1), always `https://`.
    public var directory: String
    /// Absolute path of a PEM file of trusted roots; nil: the system's roots.
    public var directoryCA: String?
    /// Absolute path of the storage folder; created when missing.
    public var storage: String
    /// The challenge types to answer, most preferred first, never empty.
    public var challenges: [ACMEChallengeKind]
    public var location: SourceLocation

    /// Let's Encrypt's production directory, the default.
    public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

    public init(email: String? = nil, directory: String = ACMEConfig.letsEncrypt, directoryCA: String? = nil,
                storage: String, challenges: [ACMEChallengeKind] = ACMEChallengeKind.allCases,
                location: SourceLocation) {
        self.email = email
        self.directory = directory
        self.directoryCA = directoryCA
        self.storage = storage
        self.challenges = challenges
        self.location = location
    }
}

/// How the CA checks that a name is ours.
public enum ACMEChallengeKind: String, Sendable, Equatable, CaseIterable, Codable {
    /// RFC 8555 §8.3: the CA fetches a file over plain HTTP on port 80.
    case http01 = "http-01"
    /// RFC 8737: the CA opens TLS on port 443 asking for the `acme-tls/1` protocol.
    case tlsALPN01 = "tls-alpn-01"
}

/// A host whose certificate Berth obtains and renews itself: `tls: auto` or `tls: internal`, or
/// the mapping form `tls: { certificate: auto, redirect_http: true, hsts: true }`. Either way
/// the certificate covers every name of the host, aliases included.
public struct ManagedTLSConfig: Sendable, Equatable, Codable {
    public enum Issuer: String, Sendable, Equatable, CaseIterable, Codable {
        /// `tls: auto`: from the ACME CA of the `acme:` block.
        case acme = "auto"
        /// `tls: internal`: signed by a local root that Berth creates once in its storage, for
        /// development names; browsers trust it once the user trusts that root.
        case local = "internal"
    }

    public var issuer: Issuer
    /// Where `tls: ...` (or `certificate: auto` in a `tls:` mapping) is written.
    public var location: SourceLocation
    /// As `TLSConfig.redirectHTTP`; the mapping form `tls: { certificate: auto, redirect_http: true }`.
    public var redirectHTTP = false
    /// As `TLSConfig.hsts`.
    public var hsts: String? = nil

    public init(issuer: Issuer, location: SourceLocation, redirectHTTP: Bool = false, hsts: String? = nil) {
        self.issuer = issuer
        self.location = location
        self.redirectHTTP = redirectHTTP
        self.hsts = hsts
    }
}
