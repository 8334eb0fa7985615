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

    /// HTTP-01 arrives on a plain listener (the CA connects to port 80). TLS-ALPN-01 is not
    /// answered: NIOSSL picks a certificate in its SNI callback, which sees the server name but
    /// not the ALPN protocols offered, so berth could not tell the CA's `acme-tls/1` handshake
    /// from a browser's and would show browsers the challenge certificate. HTTP-01 must
    /// therefore be enabled, with a plain listener for it.
    private func checkChallengeListeners(_ acme: ACMEConfig, _ listeners: [ListenerConfig]) {
        let location = acmeChallengesLocation ?? acme.location
        guard acme.challenges.contains(.http01) else {
            error("berth answers only the http-01 challenge (tls-alpn-01 would need the TLS handshake to pick "
                  + "a certificate by ALPN protocol, which it cannot); add http-01 to 'challenges'", at: location)
            return
        }
        let plain = listeners.filter { !$0.tls }
        guard !plain.isEmpty else {
            error("no listener can answer the http-01 challenge: it needs a listener without tls "
                  + "(the CA connects to port 80); add '- { port: 80 }' under 'listen:'", at: location)
            return
        }
        let testing = listeners.contains { $0.port == 0 }
        if !plain.contains(where: { $0.port == 80 }) && !testing {
            warning("ACME CAs validate http-01 on port 80, and no listener without tls binds it: validation "
                    + "works only if port 80 is forwarded to berth's", at: location)
        }
    }
}
