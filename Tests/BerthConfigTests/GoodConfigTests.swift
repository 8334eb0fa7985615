import BerthConfig
import BerthConfigFile
import Testing

@Suite struct GoodConfigTests {
    @Test func minimalConfigGetsEveryDefault() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen:
              - port: 8080
            hosts:
              localhost:
                static: public
            """)
        let expected = ServerConfig(
            sourceFile: site.path + "/berth.yaml",
            listeners: [ListenerConfig(port: 8080, location: site.location(2, 5))],
            hosts: [VirtualHostConfig(
                name: "localhost",
                routes: [PathRouteConfig(prefix: "/", handler: .staticFiles(StaticConfig(root: site.path + "/public")),
                                         location: site.location(5, 5))],
                location: site.location(4, 3))],
            warnings: [ConfigError(location: site.location(4, 3),
                                   message: "no host is marked 'default: true'; requests for other host "
                                       + "names get 421 Misdirected Request")])
        #expect(config == expected)
        #expect(config.workers == 1)
        #expect(config.threads == nil)
        #expect(config.drainTimeout == .seconds(10))
        #expect(config.limits == Limits())
        #expect(config.limits.headerBytes == 16 * 1024 && config.limits.bodyBytes == 10 * 1024 * 1024)
        #expect(config.limits.idleTimeout == .seconds(60) && config.limits.maxConnections == 10_000)
        #expect(config.logs == LogConfig(access: .off, format: .combined, error: .standardError))
        #expect(config.apps.isEmpty)
        let listener = config.listeners[0]
        #expect(listener.address == "0.0.0.0" && !listener.tls && listener.http2)
        guard case .staticFiles(let files) = config.hosts[0].routes[0].handler else {
            Issue.record("expected a static route")
            return
        }
        #expect(files.index == ["index.html"])
        #expect(!files.listing && !files.dotfiles && !files.symlinksOutsideRoot && files.precompressed)
        #expect(files.cacheControl == nil && files.mimeTypes.isEmpty && files.fallbackApp == nil)
    }

    @Test func everyKeyInheritanceAndShorthand() throws {
        let site = try TemporarySite()
        try site.directories("logs", "public", "docs", "shop")
        try site.files("apps/notes/Package.swift", "apps/libBlog.so", "tls/cert.pem", "tls/key.pem",
                       "public/404.html", "public/500.html", "docs/404.html")
        let config = try site.load("""
            listen:
              - port: 8080
              - { address: "::1", port: 8080 }
              - { port: 8443, tls: true, http2: false }
            workers: 2
            threads: 4
            limits: { header_bytes: 32KiB, header_count: 50, uri_bytes: 4KiB, body_bytes: 1MiB, header_timeout: 5s, body_timeout: 1m, idle_timeout: 90s, max_connections: 10_000 }
            logs: { access: logs/access.log, format: json, error: "-" }
            apps:
              notes:
                package: apps/notes
                product: NotesApp
                settings: { greeting: Hello, limit: 10, ratio: 0.5, debug: false, quoted: "10", answer: yes, nothing: ~, tags: [a, 1], nested: { k: v } }
                timeout: 5s
              blog: { library: ./apps/../apps/libBlog.so }
            hosts:
              LocalHost:
                default: true
                aliases: [127.0.0.1, "[::1]", WWW.Example.Test]
                access_log: logs/localhost.log
                tls: { certificate: tls/cert.pem, key: tls/key.pem }
                headers: { X-Frame-Options: DENY, X-Site: local }
                errors: { 404: public/404.html, 500: public/500.html }
                listing: false
                expires: 1h
                mime: { MD: text/markdown }
                paths:
                  /: { static: public/ }
                  /docs/: { static: docs, listing: true, fallback: notes, headers: { x-site: docs }, errors: { 404: docs/404.html }, mime: { .Txt: text/plain } }
                  /docs/api: { app: notes }
                  /old: { redirect: { to: "https://example.test/new", status: 308, keep_path: true } }
                  /a: { redirect: /b }
              shop.test:
                static: shop
                index: [home.html, index.html]
                cache_control: "public, max-age=60"
                symlinks: true
                dotfiles: true
                precompressed: false
              "*.Old.Test":
                redirect: { to: "https://shop.test", status: 301 }
              api.test: { app: blog, headers: { X-Api: "1" } }
            """)
        let p = site.path
        #expect(config.listeners == [
            ListenerConfig(port: 8080, location: site.location(2, 5)),
            ListenerConfig(address: "::1", port: 8080, location: site.location(3, 5)),
            ListenerConfig(port: 8443, tls: true, http2: false, location: site.location(4, 5)),
        ])
        #expect(config.workers == 2 && config.threads == 4)
        var limits = Limits()
        limits.headerBytes = 32 * 1024
        limits.headerCount = 50
        limits.uriBytes = 4096
        limits.bodyBytes = 1024 * 1024
        limits.headerTimeout = .seconds(5)
        limits.bodyTimeout = .seconds(60)
        limits.idleTimeout = .seconds(90)
        limits.maxConnections = 10_000
        #expect(config.limits == limits)
        #expect(config.logs == LogConfig(access: .file(p + "/logs/access.log"), format: .json, error: .standardOutput))
        let settings: [String: SettingValue] = [
            "greeting": .string("Hello"), "limit": .int(10), "ratio": .double(0.5), "debug": .bool(false),
            "quoted": .string("10"), "answer": .string("yes"), "nothing": .null,
            "tags": .array([.string("a"), .int(1)]), "nested": .dictionary(["k": .string("v")]),
        ]
        #expect(config.apps == [
            AppConfig(name: "notes", source: .package(directory: p + "/apps/notes", product: "NotesApp"),
                      settings: .dictionary(settings), requestTimeout: .seconds(5), location: site.location(10, 3)),
            AppConfig(name: "blog", source: .library(path: p + "/apps/libBlog.so"), location: site.location(15, 3)),
        ])

        let hostHeaders = [HeaderField(name: "X-Frame-Options", value: "DENY"), HeaderField(name: "X-Site", value: "local")]
        let hostErrors = [404: p + "/public/404.html", 500: p + "/public/500.html"]
        let localhost = VirtualHostConfig(
            name: "localhost", aliases: ["127.0.0.1", "[::1]", "www.example.test"], isDefault: true,
            accessLog: .file(p + "/logs/localhost.log"),
            routes: [
                PathRouteConfig(prefix: "/docs/api", handler: .app(AppRouteConfig(app: "notes")),
                                headers: hostHeaders, errorPages: hostErrors, location: site.location(30, 7)),
                PathRouteConfig(
                    prefix: "/docs",
                    handler: .staticFiles(StaticConfig(
                        root: p + "/docs", listing: true, cacheControl: "max-age=3600",
                        mimeTypes: ["md": "text/markdown", "txt": "text/plain"], fallbackApp: "notes")),
                    headers: [HeaderField(name: "X-Frame-Options", value: "DENY"), HeaderField(name: "x-site", value: "docs")],
                    errorPages: [404: p + "/docs/404.html", 500: p + "/public/500.html"],
                    location: site.location(29, 7)),
                PathRouteConfig(prefix: "/old",
                                handler: .redirect(RedirectConfig(target: "https://example.test/new", status: 308, keepPath: true)),
                                headers: hostHeaders, errorPages: hostErrors, location: site.location(31, 7)),
                PathRouteConfig(prefix: "/a", handler: .redirect(RedirectConfig(target: "/b")),
                                headers: hostHeaders, errorPages: hostErrors, location: site.location(32, 7)),
                PathRouteConfig(
                    prefix: "/",
                    handler: .staticFiles(StaticConfig(root: p + "/public", cacheControl: "max-age=3600",
                                                       mimeTypes: ["md": "text/markdown"])),
                    headers: hostHeaders, errorPages: hostErrors, location: site.location(28, 7)),
            ],
            tls: TLSConfig(certificate: p + "/tls/cert.pem", key: p + "/tls/key.pem", location: site.location(21, 10)),
            location: site.location(17, 3))
        let shop = VirtualHostConfig(
            name: "shop.test",
            routes: [PathRouteConfig(
                prefix: "/",
                handler: .staticFiles(StaticConfig(
                    root: p + "/shop", index: ["home.html", "index.html"], dotfiles: true,
                    symlinksOutsideRoot: true, precompressed: false, cacheControl: "public, max-age=60")),
                location: site.location(34, 5))],
            location: site.location(33, 3))
        let old = VirtualHostConfig(
            name: "*.old.test",
            routes: [PathRouteConfig(prefix: "/", handler: .redirect(RedirectConfig(target: "https://shop.test")),
                                     location: site.location(41, 5))],
            location: site.location(40, 3))
        let api = VirtualHostConfig(
            name: "api.test",
            routes: [PathRouteConfig(prefix: "/", handler: .app(AppRouteConfig(app: "blog")),
                                     headers: [HeaderField(name: "X-Api", value: "1")], location: site.location(42, 15))],
            location: site.location(42, 3))
        #expect(config.hosts == [localhost, shop, old, api])
        #expect(config.warnings.isEmpty)
    }

    @Test func drainTimeoutIsADuration() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 0 }]
            drain_timeout: 1m30s
            hosts: { a.test: { default: true, static: public } }
            """)
        #expect(config.drainTimeout == .seconds(90))
        let immediate = try site.load("""
            listen: [{ port: 0 }]
            drain_timeout: 0s
            hosts: { a.test: { default: true, static: public } }
            """)
        #expect(immediate.drainTimeout == .zero)
    }

    @Test func webSocketLimitsAndTheirDrain() throws {
        let site = try TemporarySite()
        try site.files("libchat.so")
        let config = try site.load("""
            listen: [{ port: 0 }]
            websocket_drain: 30m
            apps:
              chat: { library: libchat.so, websocket: { max_message: 64KiB, idle_timeout: 2m } }
              plain: { library: libchat.so }
            hosts: { a.test: { default: true, paths: { /chat: { app: chat }, /plain: { app: plain } } } }
            """)
        #expect(config.webSocketDrain == .seconds(1800))
        #expect(config.apps.first { $0.name == "chat" }?.webSocket == WebSocketConfig(maxMessage: 64 * 1024, idleTimeout: .seconds(120)))
        #expect(config.apps.first { $0.name == "plain" }?.webSocket == WebSocketConfig(maxMessage: 1024 * 1024, idleTimeout: .seconds(60)))
        let defaults = try site.load("""
            listen: [{ port: 0 }]
            hosts: { a.test: { default: true, paths: { /chat: { app: chat } } } }
            apps: { chat: { library: libchat.so } }
            """)
        #expect(defaults.webSocketDrain == .seconds(3600))
    }

    @Test func anchorsAndMergeKeysShareHostSettings() throws {
        let site = try TemporarySite()
        try site.directories("public")
        let config = try site.load("""
            listen: [{ port: 0 }, { port: 0 }]
            threads: auto
            hosts:
              a.test: &site
                default: true
                headers: { X-A: "1" }
                static: public
              b.test:
                <<: *site
                default: false
            """)
        #expect(config.threads == nil)
        #expect(config.listeners.map(\.port) == [0, 0])
        #expect(config.hosts.map(\.name) == ["a.test", "b.test"])
        #expect(config.hosts.map(\.isDefault) == [true, false])
        #expect(config.hosts[1].routes.map(\.headers) == [[HeaderField(name: "X-A", value: "1")]])
        #expect(config.hosts[1].routes.map(\.handler) == [.staticFiles(StaticConfig(root: site.path + "/public"))])
    }

    @Test func warningsDoNotStopLoading() throws {
        let site = try TemporarySite()
        try site.directories("public")
        try site.files("lib.so", "cert.pem", "key.pem")
        let config = try site.load("""
            listen: [{ port: 8080 }]
            apps:
              unused: { library: lib.so }
            hosts:
              a.test:
                tls: { certificate: cert.pem, key: key.pem }
                static: public
            """)
        #expect(config.warnings.map(\.description) == [
            "\(site.location(3, 3)): app 'unused' is not used by any host",
            "\(site.location(5, 3)): no host is marked 'default: true'; requests for other host names get "
                + "421 Misdirected Request",
            "\(site.location(6, 10)): host 'a.test' has a certificate but no listener is marked 'tls: true'; "
                + "it is served over plain HTTP only",
        ])
    }

    @Test func relativeFileNamesResolveAgainstTheWorkingDirectory() throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: [{ port: 8080 }]
            hosts: { localhost: { default: true, redirect: "https://example.test/" } }
            """, file: "conf/berth.yaml")
        #expect(config.sourceFile.hasPrefix("/") && config.sourceFile.hasSuffix("/conf/berth.yaml"))
        #expect(config.hosts[0].routes[0].location.file == "conf/berth.yaml")
    }

    @Test func hostLookupMatchesExactThenWildcardThenDefault() throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: [{ port: 8080 }]
            hosts:
              example.test: { default: true, redirect: /a }
              "*.example.test": { aliases: [other.test], redirect: /b }
              "*.deep.example.test": { redirect: /c }
              www.example.test: { redirect: /d }
            """, file: "/nonexistent/berth.yaml")
        #expect(config.host(named: "EXAMPLE.test")?.name == "example.test")
        #expect(config.host(named: "www.example.test")?.name == "www.example.test")
        #expect(config.host(named: "a.example.test")?.name == "*.example.test")
        #expect(config.host(named: "x.deep.example.test")?.name == "*.deep.example.test")
        #expect(config.host(named: "deep.example.test")?.name == "*.example.test")
        #expect(config.host(named: "other.test")?.name == "*.example.test")
        #expect(config.host(named: "unknown.test")?.name == "example.test")
    }

    @Test func missingFileIsAnError() {
        #expect(throws: ConfigErrors.self) { try ConfigLoader.load(file: "/nonexistent/berth.yaml") }
        do {
            _ = try ConfigLoader.load(file: "/nonexistent/berth.yaml")
        } catch {
            #expect(error.description == "/nonexistent/berth.yaml:1:1: config file does not exist")
        }
    }

    @Test func errorsAreSortedByLineThenColumn() {
        func error(_ line: Int, _ column: Int) -> ConfigError {
            ConfigError(location: SourceLocation(file: "f", line: line, column: column), message: "m\(line).\(column)")
        }
        let errors = ConfigErrors(errors: [error(3, 1), error(1, 9), error(1, 2), error(2, 5)])
        #expect(errors.description == "f:1:2: m1.2\nf:1:9: m1.9\nf:2:5: m2.5\nf:3:1: m3.1")
        #expect(errors.errors.map(\.location.line) == [1, 1, 2, 3])
    }
}
