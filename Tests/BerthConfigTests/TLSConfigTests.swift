import BerthConfig
import Testing

@Suite struct TLSConfigTests {
    @Test func everyTLSKeyIsRead() throws {
        let site = try TemporarySite()
        try site.directories("public")
        try site.files("tls/a.pem", "tls/a.key")
        let config = try site.load("""
            listen:
              - { port: 8080 }
              - { port: 8443, tls: true }
              - { port: 8444, tls: { min_version: "1.3" }, http2: false }
              - { port: 8445, tls: false }
            hosts:
              a.test:
                default: true
                tls: { certificate: tls/a.pem, key: tls/a.key, redirect_http: true, hsts: "max-age=63072000; includeSubDomains; preload" }
                static: public
              b.test:
                tls: { certificate: tls/a.pem, key: tls/a.key, hsts: true }
                static: public
              c.test:
                tls: { certificate: tls/a.pem, key: tls/a.key, hsts: false, redirect_http: false }
                static: public
            """)
        #expect(config.listeners.map(\.tls) == [false, true, true, false])
        #expect(config.listeners.map(\.tlsMinimumVersion) == [.tls12, .tls12, .tls13, .tls12])
        #expect(config.listeners.map(\.http2) == [true, true, false, true])
        #expect(config.hosts[0].tls == TLSConfig(
            certificate: site.path + "/tls/a.pem", key: site.path + "/tls/a.key", redirectHTTP: true,
            hsts: "max-age=63072000; includeSubDomains; preload", location: site.location(9, 10)))
        #expect(config.hosts[1].tls?.hsts == TLSConfig.defaultHSTS && config.hosts[1].tls?.redirectHTTP == false)
        #expect(config.hosts[2].tls?.hsts == nil && config.hosts[2].tls?.redirectHTTP == false)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
    }

    @Test func redirectToHTTPSNeedsATLSListener() throws {
        let site = try TemporarySite()
        try site.directories("public")
        try site.files("a.pem", "a.key")
        #expect(try site.errors("""
            listen: [{ port: 8080 }]
            hosts:
              a.test:
                default: true
                tls: { certificate: a.pem, key: a.key, redirect_http: true }
                static: public
            """) == ["host 'a.test' has 'redirect_http: true' but no listener is marked 'tls: true'; "
                        + "add one like '- { port: 8443, tls: true }'"])
    }
}
