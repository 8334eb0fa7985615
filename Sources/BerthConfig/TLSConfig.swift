internal import Yams

/// A host's certificate and key, and how the host treats plain HTTP: the `tls:` key of a host.
/// The server picks the certificate by SNI (RFC 6066 §3) on listeners marked `tls`.
///
/// ```yaml
/// tls:
///   certificate: tls/shop.pem    # PEM chain, leaf first; must cover the host's names and aliases
///   key: tls/shop.key            # PEM private key (unencrypted) matching the certificate
///   redirect_http: true          # plain-HTTP requests get 308 to the same URL on https; default false
///   hsts: true                   # Strict-Transport-Security on HTTPS responses; default off.
///                                # true is "max-age=31536000"; or the header value itself,
///                                # e.g. "max-age=63072000; includeSubDomains; preload"
/// ```
public struct TLSConfig: Sendable, Equatable {
    /// Absolute path of the PEM certificate chain.
    public var certificate: String
    /// Absolute path of the PEM private key.
    public var key: String
    /// Requests that arrive on a plain listener are answered with 308 Permanent Redirect to
    /// `https://` (RFC 9110 §15.4.9 keeps the method and body).
    public var redirectHTTP: Bool
    /// The `Strict-Transport-Security` value (RFC 6797 §6.1) for responses sent over TLS; nil: none.
    public var hsts: String?
    public var location: SourceLocation

    /// What `hsts: true` means: one year, the value browsers' preload lists ask for at least.
    public static let defaultHSTS = "max-age=31536000"

    public init(certificate: String, key: String, redirectHTTP: Bool = false, hsts: String? = nil,
                location: SourceLocation) {
        self.certificate = certificate
        self.key = key
        self.redirectHTTP = redirectHTTP
        self.hsts = hsts
        self.location = location
    }
}

/// The oldest TLS version a listener accepts. TLS 1.0 and 1.1 are deprecated (RFC 8996) and
/// never offered.
public enum TLSMinimumVersion: String, Sendable, Equatable, CaseIterable {
    case tls12 = "1.2"
    case tls13 = "1.3"
}

extension ConfigReader {
    static let tlsKeys = ["certificate", "key", "redirect_http", "hsts"]
    static let listenerTLSKeys = ["min_version"]

    func readTLS(_ node: Node, host: String) -> TLSConfig? {
        let context = "in 'tls' of host '\(host)'"
        guard let fields = fields(of: node, expected: "a mapping with 'certificate' and 'key'",
                                  context: context, allowed: ConfigReader.tlsKeys)
        else { return nil }
        let certificate = required("certificate", in: fields, context: context,
                                   expected: "the path of a PEM certificate file")
            .flatMap { file($0, what: "certificate file") }
        let key = required("key", in: fields, context: context,
                           expected: "the path of a PEM private key file")
            .flatMap { file($0, what: "key file") }
        var valid = true
        var redirectHTTP = false
        if let node = fields["redirect_http"] {
            if let value = bool(node) { redirectHTTP = value } else { valid = false }
        }
        var hsts: String?
        if let node = fields["hsts"] {
            if let value = readHSTS(node) { hsts = value.isEmpty ? nil : value } else { valid = false }
        }
        guard let certificate, let key, valid else { return nil }
        return TLSConfig(certificate: certificate, key: key, redirectHTTP: redirectHTTP, hsts: hsts,
                         location: location(node))
    }

    /// `true`, `false`, or a header value of RFC 6797 §6.1: `max-age=N` with the optional
    /// `includeSubDomains` and `preload` directives. "" stands for off.
    private func readHSTS(_ node: Node) -> String? {
        let expected = "true, false or a header value like \"max-age=31536000; includeSubDomains\""
        guard let text = scalar(node, expected: expected) else { return nil }
        switch text {
        case "true", "True", "TRUE": return TLSConfig.defaultHSTS
        case "false", "False", "FALSE": return ""
        default: break
        }
        var sawMaxAge = false
        for directive in text.split(separator: ";") {
            let trimmed = directive.trimmingSpaces().lowercased()
            if trimmed.hasPrefix("max-age=") {
                let value = trimmed.dropFirst("max-age=".count)
                let digits = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2
                    ? value.dropFirst().dropLast() : value
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), !sawMaxAge else {
                    error("expected \(expected), found \(found(node))", at: node)
                    return nil
                }
                sawMaxAge = true
            } else if trimmed != "includesubdomains" && trimmed != "preload" {
                error("expected \(expected), found \(found(node)) (unknown directive '\(directive.trimmingSpaces())')",
                      at: node)
                return nil
            }
        }
        guard sawMaxAge else {
            error("expected \(expected), found \(found(node)) (max-age is required)", at: node)
            return nil
        }
        return text.trimmingSpaces()
    }

    /// A listener's `tls:` is `true`, `false`, or a mapping of TLS settings (which means true).
    func readListenerTLS(_ node: Node, into listener: inout ListenerConfig) -> Bool {
        guard case .mapping = node else {
            if let value = bool(node) {
                listener.tls = value
                return true
            }
            return false
        }
        let context = "in 'tls' of listener"
        guard let fields = fields(of: node, expected: "true, false or a mapping like { min_version: \"1.3\" }",
                                  context: context, allowed: ConfigReader.listenerTLSKeys)
        else { return false }
        listener.tls = true
        if let versionNode = fields["min_version"] {
            guard let text = choice(versionNode, from: TLSMinimumVersion.allCases.map(\.rawValue)),
                  let version = TLSMinimumVersion(rawValue: text)
            else { return false }
            listener.tlsMinimumVersion = version
        }
        return true
    }
}
