import BerthConfig
import Testing

@Suite struct ACMEConfigTests {
    @Test func defaultsAreLetsEncryptBothChallengesAndStorageNextToTheFile() throws {
        let site = try TemporarySite()
        try site.directories("public")
        try site.files("tls/a.pem", "tls/a.key")
        let config = try site.load("""
            listen: [{ port: 80 }, { port: 443, tls: true }]
            acme: { email: admin@example.org }
            hosts:
              example.org:
                default: true
                aliases: [www.example.org]
                tls: auto
                static: public
              files.example.org: { tls: { certificate: tls/a.pem, key: tls/a.key }, static: public }
            """)
        #expect(config.acme == ACMEConfig(email: "admin@example.org", storage: site.path + "/acme",
                                          location: site.location(2, 7)))
        #expect(config.acme?.directory == "https://acme-v02.api.letsencrypt.org/directory")
        #expect(config.acme?.challenges == [.http01, .tlsALPN01])
        #expect(config.hosts[0].managedTLS == ManagedTLSConfig(issuer: .acme, location: site.location(7, 10)))
        #expect(config.hosts[0].tls == nil)
        #expect(config.managedTLSStorage == site.path + "/acme")
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    /// Managed hosts bring their own certificates (a placeholder until the first is issued),
    /// so a TLS listener needs no certificate file.
    @Test func aTLSListenerMayServeManagedHostsOnly() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 80 }, { port: 443, tls: true }]
            acme: { email: admin@example.org }
            hosts:
              example.org: { default: true, tls: auto, static: public }
              app.localhost: { tls: internal, static: public }
            """)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    @Test func internalNeedsNoACMEBlock() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 8080 }]
            hosts:
              shop.localhost: { default: true, aliases: ["*.shop.localhost"], tls: internal, static: public }
            """)
        #expect(config.hosts[0].managedTLS?.issuer == .local)
        #expect(config.acme == nil)
        #expect(config.managedTLSStorage == site.path + "/acme")
    }

    @Test func everyKeyIsRead() throws {
        let site = try TemporarySite()
        try site.directories("public")
        try site.files("tls/pebble.pem", "tls/a.pem", "tls/a.key")
        let config = try site.load("""
            listen: [{ port: 5002 }, { port: 5001, tls: true }]
            acme:
              email: ops@shop.test
              directory: https://127.0.0.1:14000/dir
              directory_ca: tls/pebble.pem
              storage: state/acme
              challenges: [tls-alpn-01, http-01]
            hosts:
              shop.test: { default: true, tls: auto, static: public }
              files.test: { tls: { certificate: tls/a.pem, key: tls/a.key }, static: public }
            """)
        let acme = try #require(config.acme)
        #expect(acme.email == "ops@shop.test")
        #expect(acme.directory == "https://127.0.0.1:14000/dir")
        #expect(acme.directoryCA == site.path + "/tls/pebble.pem")
        #expect(acme.storage == site.path + "/state/acme")
        #expect(acme.challenges == [.tlsALPN01, .http01])
        // Not port 80: the CA reaches berth only through forwarding.
        #expect(config.warnings.map(\.message) == [
            "ACME CAs validate http-01 on port 80, and no listener without tls binds it: validation works "
                + "only if port 80 is forwarded to berth's",
        ])
    }

    @Test func anUnusedACMEBlockIsAWarning() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 80 }]
            acme: {}
            hosts:
              example.org: { default: true, static: public }
            """)
        #expect(config.acme?.email == nil)
        #expect(config.warnings.map(\.message) == ["the 'acme:' block is not used: no host has 'tls: auto'"])
    }
}

@Suite struct ManagedTLSMappingTests {
    @Test func theMappingFormTakesRedirectAndHSTS() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 80 }, { port: 443, tls: true }]
            acme: { email: admin@example.org }
            hosts:
              example.org:
                default: true
                tls: { certificate: auto, redirect_http: true, hsts: true }
                static: public
              app.localhost: { tls: { certificate: internal }, static: public }
            """)
        #expect(config.hosts[0].managedTLS == ManagedTLSConfig(issuer: .acme, location: site.location(6, 25),
                                                               redirectHTTP: true, hsts: TLSConfig.defaultHSTS))
        #expect(config.hosts[0].tls == nil)
        #expect(config.hosts[1].managedTLS?.issuer == .local && config.hosts[1].managedTLS?.redirectHTTP == false)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    @Test func aKeyDoesNotGoWithAnAutomaticCertificateNorARedirectWithoutTLSListener() throws {
        let site = try TemporarySite()
        try site.directories("public")
        #expect(try site.errors("""
            listen: [{ port: 80 }]
            acme: { email: admin@example.org }
            hosts:
              example.org: { default: true, tls: { certificate: auto, key: tls/a.key }, static: public }
              shop.example.org: { tls: { certificate: auto, redirect_http: true }, static: public }
            """) == [
                "'key' does not go with 'certificate: auto': berth makes the key itself; remove it",
                "host 'shop.example.org' has 'redirect_http: true' but no listener is marked 'tls: true'; add one "
                    + "like '- { port: 443, tls: true }'",
            ])
        let plain = try site.load("""
            listen: [{ port: 80 }]
            hosts:
              app.localhost: { default: true, tls: internal, static: public }
            """)
        #expect(plain.warnings.map(\.message) == [
            "host 'app.localhost' has 'tls: internal' but no listener is marked 'tls: true'; its certificate is kept "
                + "but served nowhere",
        ])
    }
}
