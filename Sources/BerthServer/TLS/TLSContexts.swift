import BerthConfig
import NIOSSL

/// The TLS server side of one kind of listener: one `NIOSSLContext` per certificate, built once
/// per configuration generation, and the table that picks one by the name a client sent in its
/// ClientHello (SNI, RFC 6066 §3).
///
/// A name picks, in order: the certificate of the host that claims it exactly (name or alias),
/// of the host whose `*.suffix` name matches (longest suffix first), a certificate whose
/// subjectAltName covers it, then the default host's certificate. A client without SNI, or
/// with a name nothing claims, gets the default host's certificate (or, without a default
/// host that has one, the first certificate in the file).
final class TLSContexts: Sendable {
    /// What differs between listeners: each combination needs its own contexts, since the
    /// versions and ALPN protocols are fixed in a context.
    struct Profile: Hashable, Sendable {
        var minimumVersion: TLSMinimumVersion
        var http2: Bool
    }

    /// ALPN identifiers (RFC 7301 §6, RFC 9113 §3.2), in the server's order of preference.
    static let http2Protocol = "h2"
    static let http1Protocol = "http/1.1"

    /// ECDHE key exchange with AEAD ciphers only, for TLS 1.2 (the TLS 1.3 suites are all
    /// AEAD and need no list). What Mozilla's "intermediate" profile allows: forward secrecy,
    /// no CBC, no static RSA key exchange.
    static let cipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// A context and the certificate file it serves (for messages and tests).
    struct Selection: Sendable {
        let context: NIOSSLContext
        let certificateFile: String
    }

    let profile: Profile
    private let exact: [String: Selection]
    /// "*.example.test" host names as ".example.test", longest first.
    private let wildcardHosts: [(suffix: String, selection: Selection)]
    /// "*.example.test" subjectAltNames as ".example.test": they cover one label only.
    private let wildcardNames: [String: Selection]
    let fallback: Selection

    init(certificates: [HostCertificate], profile: Profile) throws {
        precondition(!certificates.isEmpty, "a TLS listener needs at least one certificate")
        self.profile = profile
        // Hosts that share one certificate (a YAML anchor, a wildcard) share one context.
        var contexts: [String: Selection] = [:]
        func context(for certificate: HostCertificate) throws -> Selection {
            let key = certificate.certificateFile + "\u{0}" + certificate.keyFile
            if let known = contexts[key] { return known }
            let made = Selection(
                context: try NIOSSLContext(configuration: Self.configuration(for: certificate, profile: profile)),
                certificateFile: certificate.certificateFile)
            contexts[key] = made
            return made
        }

        var hostExact: [String: Selection] = [:]
        var hostWildcards: [(String, Selection)] = []
        var sanExact: [String: Selection] = [:]
        var sanWildcards: [String: Selection] = [:]
        for certificate in certificates {
            let made = try context(for: certificate)
            for name in certificate.hostNames {
                if name.hasPrefix("*.") {
                    hostWildcards.append((String(name.dropFirst()), made))
                } else if hostExact[name] == nil {
                    hostExact[name] = made
                }
            }
            for name in certificate.dnsNames {
                if name.hasPrefix("*.") {
                    if sanWildcards[String(name.dropFirst())] == nil { sanWildcards[String(name.dropFirst())] = made }
                } else if sanExact[name] == nil {
                    sanExact[name] = made
                }
            }
        }
        // A host's own certificate wins over another certificate that happens to list the name.
        self.exact = hostExact.merging(sanExact) { host, _ in host }
        self.wildcardHosts = hostWildcards.sorted { $0.0.utf8.count > $1.0.utf8.count }
        self.wildcardNames = sanWildcards
        let defaultCertificate = certificates.first(where: \.isDefaultHost) ?? certificates[0]
        self.fallback = try context(for: defaultCertificate)
    }

    static func configuration(for certificate: HostCertificate, profile: Profile) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) },
            privateKey: .privateKey(certificate.key)
        )
        // RFC 8996 retired TLS 1.0 and 1.1; RFC 8446 is the newest version.
        configuration.minimumTLSVersion = profile.minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        configuration.cipherSuites = Self.cipherSuites
        // RFC 9113 §3.2: HTTP/2 over TLS is chosen by ALPN; without "h2" every client speaks
        // HTTP/1.1. A client that offers neither still gets HTTP/1.1 (RFC 7301 §3.2 allows
        // the server to go on without ALPN).
        configuration.applicationProtocols = profile.http2 ? [Self.http2Protocol, Self.http1Protocol] : [Self.http1Protocol]
        // Session resumption (tickets for TLS 1.3 and 1.2, RFC 8446 §2.2) is BoringSSL's
        // default for a server context and stays on.
        return configuration
    }

    /// The context for the SNI name of a ClientHello; nil or unknown names get the fallback.
    func context(forServerName serverName: String?) -> NIOSSLContext {
        self.selection(forServerName: serverName).context
    }

    func selection(forServerName serverName: String?) -> Selection {
        guard var name = serverName?.lowercased(), !name.isEmpty else { return self.fallback }
        if name.hasSuffix(".") { name.removeLast() }
        if let selection = self.exact[name] { return selection }
        for (suffix, selection) in self.wildcardHosts where name.hasSuffix(suffix) && name.utf8.count > suffix.utf8.count {
            return selection
        }
        if let dot = name.firstIndex(of: "."), let selection = self.wildcardNames[String(name[dot...])] {
            return selection
        }
        return self.fallback
    }
}
