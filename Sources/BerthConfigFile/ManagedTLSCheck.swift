import BerthConfig

/// What must hold for `tls: auto` hosts to get certificates, checked once all hosts and
/// listeners are read: an `acme:` block, names an ACME CA can issue for over the enabled
/// challenges, and a listener on which the CA's validation can arrive.
extension ConfigReader {
    func checkManagedTLS(_ config: ServerConfig) {
        for host in config.hosts where host.managedTLS?.issuer == .local {
            for name in [host.name] + host.aliases where name.hasPrefix("[") || IPAddress.isIPv4(name) {
                error("'tls: internal' covers DNS names only, not the IP address '\(name)'; use a name such "
                      + "as 'app.localhost'", at: nameLocations[name] ?? host.location)
            }
        }
        let managed = config.hosts.filter { $0.managedTLS?.issuer == .acme }
        guard !managed.isEmpty else {
            if let acme = config.acme {
                warning("the 'acme:' block is not used: no host has 'tls: auto'", at: acme.location)
            }
            return
        }
        for host in managed {
            if config.acme == nil {
                error("host '\(host.name)' has 'tls: auto' but the file has no 'acme:' block; add one like "
                      + "'acme: { email: admin@example.org }'", at: host.managedTLS!.location)
            }
            for name in [host.name] + host.aliases {
                if let reason = ConfigReader.whyNoACMECertificate(for: name) {
                    error("'tls: auto' cannot get a certificate for '\(name)': \(reason)",
                          at: nameLocations[name] ?? host.location)
                }
            }
        }
        if let acme = config.acme, !config.listeners.isEmpty {
            checkChallengeListeners(acme, config.listeners)
        }
    }

    /// Why an ACME CA will not issue for `name`, or nil when it may.
    static func whyNoACMECertificate(for name: String) -> String? {
        let remedy = "give the host 'tls: { certificate: ..., key: ... }' instead"
        if name.hasPrefix("*.") {
            return "wildcard names need the DNS-01 challenge, which berth does not answer; list the names "
                + "you serve, or \(remedy)"
        }
        if name.hasPrefix("[") || IPAddress.isIPv4(name) {
            return "ACME CAs do not issue certificates for IP addresses; \(remedy)"
        }
        if name == "localhost" || name.hasSuffix(".localhost") {
            return "no CA issues certificates for localhost names (RFC 6761); use 'tls: internal' for "
                + "development names"
        }
        return nil
    }

    /// HTTP-01 arrives on a plain listener (the CA connects to port 80), TLS-ALPN-01 on a TLS
    /// one (port 443). At least one enabled challenge must have its kind of listener.
    private func checkChallengeListeners(_ acme: ACMEConfig, _ listeners: [ListenerConfig]) {
        let plain = listeners.filter { !$0.tls }, tls = listeners.filter(\.tls)
        let http01 = acme.challenges.contains(.http01), alpn = acme.challenges.contains(.tlsALPN01)
        guard (http01 && !plain.isEmpty) || (alpn && !tls.isEmpty) else {
            if http01 && !alpn {
                error("no listener can answer the http-01 challenge: it needs a listener without tls "
                      + "(the CA connects to port 80); add '- { port: 80 }' under 'listen:', or add "
                      + "tls-alpn-01 to 'challenges'", at: acmeChallengesLocation ?? acme.location)
            } else {
                error("no listener can answer the tls-alpn-01 challenge: it needs a listener with "
                      + "'tls: true' (the CA connects to port 443); add '- { port: 443, tls: true }' under "
                      + "'listen:', or add http-01 to 'challenges'", at: acmeChallengesLocation ?? acme.location)
            }
            return
        }
        let standard = (http01 && plain.contains { $0.port == 80 }) || (alpn && tls.contains { $0.port == 443 })
        let testing = listeners.contains { $0.port == 0 }
        if !standard && !testing {
            warning("ACME CAs validate on port 80 (http-01) and 443 (tls-alpn-01), and no listener for an "
                    + "enabled challenge binds them: validation works only if those ports are forwarded to "
                    + "berth's", at: acmeChallengesLocation ?? acme.location)
        }
    }
}
