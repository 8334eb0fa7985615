import BerthConfig
import BerthConfigFile
import Testing

@Suite struct CompressionConfigTests {
    private func routes(_ hosts: String, top: String = "") throws -> (ServerConfig, [String: PathRouteConfig]) {
        let site = try TemporarySite()
        try site.directories("public")
        try site.files("apps/libNotes.so")
        let config = try site.load("""
            listen: [{ port: 8080 }]
            \(top)
            apps:
              notes: { library: apps/libNotes.so }
            hosts:
            \(hosts)
            """)
        var routes: [String: PathRouteConfig] = [:]
        for host in config.hosts {
            for route in host.routes { routes[host.name + route.prefix] = route }
        }
        return (config, routes)
    }

    @Test func onByDefaultForTextTypes() throws {
        let (config, routes) = try routes("""
              a.test: { default: true, static: public }
            """)
        let compression = try #require(routes["a.test/"]?.compression)
        #expect(compression == CompressionConfig())
        #expect(compression.encodings == [.br, .gzip] && compression.brotliLevel == 4 && compression.gzipLevel == 5)
        #expect(compression.minLength == 256 && compression.types.contains("text/*") && !compression.types.contains("font/woff2"))
        #expect(config.compressionCache == 16 * 1024 * 1024)
    }

    @Test func pathSettingsAreLaidOverTheHostsKeyByKey() throws {
        let (config, routes) = try routes("""
              a.test:
                default: true
                compress: { encodings: [gzip, br], level: { gzip: 9 }, min_length: 1KiB }
                paths:
                  /: { static: public }
                  /api: { app: notes, compress: { level: { br: 11 }, types: [application/json] } }
                  /raw: { static: public, compress: off }
              b.test:
                compress: off
                paths:
                  /: { static: public }
                  /docs: { static: public, compress: { min_length: 10 } }
                  /on: { static: public, compress: on }
            """, top: "compression_cache: 1MiB")
        #expect(config.compressionCache == 1024 * 1024)
        #expect(routes["a.test/"]?.compression == CompressionConfig(encodings: [.gzip, .br], gzipLevel: 9, minLength: 1024))
        #expect(routes["a.test/api"]?.compression == CompressionConfig(
            encodings: [.gzip, .br], brotliLevel: 11, gzipLevel: 9, minLength: 1024, types: ["application/json"]))
        #expect(routes["a.test/raw"]?.compression == nil)
        #expect(routes["b.test/"]?.compression == nil)
        #expect(routes["b.test/docs"]?.compression == CompressionConfig(minLength: 10))
        #expect(routes["b.test/on"]?.compression == CompressionConfig())
    }

    @Test func typePatternsAndNoCache() throws {
        let (config, routes) = try routes("""
              a.test:
                default: true
                static: public
                compress: { types: [Text/*, application/*+XML, font/ttf], encodings: br }
            """, top: "compression_cache: 0")
        #expect(config.compressionCache == 0)
        #expect(routes["a.test/"]?.compression?.types == ["text/*", "application/*+xml", "font/ttf"])
        #expect(routes["a.test/"]?.compression?.encodings == [.br])
    }
}

extension CompressionConfigTests {
    /// conf/berth.yaml documents the defaults and changes one level on one host.
    @Test func theExampleFileCompressesEverySite() throws {
        let config = try ConfigLoader.load(file: ExampleConfigTests.repository.appendingPathComponent("conf/berth.yaml").path)
        #expect(config.compressionCache == 16 * 1024 * 1024)
        for host in config.hosts {
            let expected = host.name == "beta.localhost" ? CompressionConfig(brotliLevel: 5) : CompressionConfig()
            #expect(host.routes.allSatisfy { $0.compression == expected }, "\(host.name)")
        }
    }
}
