import Testing

@testable import BerthServer

@Suite("Host and path matching")
struct HostTableTests {
    func host(_ names: [String], isDefault: Bool = false, prefixes: [String] = ["/"]) -> VirtualHost {
        VirtualHost(
            name: names[0], names: names, isDefault: isDefault,
            routes: prefixes.map { PathRoute(prefix: $0, handlers: [RedirectHandler(redirect: .init(target: $0, status: 301, keepPath: false))], headers: [], errorPages: [:]) },
            accessLog: nil)
    }

    @Test func exactThenLongestWildcardThenDefault() {
        let shop = host(["shop.test", "www.shop.test"])
        let wide = host(["*.test"])
        let narrow = host(["*.old.test"])
        let fallback = host(["default.test"], isDefault: true)
        let table = HostTable(hosts: [shop, wide, narrow, fallback])
        #expect(table.host(for: "shop.test") === shop)
        #expect(table.host(for: "WWW.Shop.Test:8443") === shop)
        #expect(table.host(for: "a.old.test") === narrow)
        #expect(table.host(for: "x.y.old.test") === narrow)
        #expect(table.host(for: "old.test") === wide)
        #expect(table.host(for: "elsewhere.example") === fallback)
        #expect(table.host(for: nil) === fallback)
        #expect(table.host(for: "shop.test.") === shop)
    }

    @Test func noDefaultMeansNoHost() {
        let table = HostTable(hosts: [host(["a.test"])])
        #expect(table.host(for: "b.test") == nil)
    }

    @Test func aConnectionsLookupFollowsEachHostHeader() {
        let shop = host(["shop.test"])
        let blog = host(["blog.test"])
        let fallback = host(["default.test"], isDefault: true)
        let lookup = HostLookup(HostTable(hosts: [shop, blog, fallback]))
        // The remembered answer is for one Host value only: a change on the same connection
        // is looked up afresh, and going back finds the first host again.
        #expect(lookup.host(for: "shop.test") === shop)
        #expect(lookup.host(for: "shop.test") === shop)
        #expect(lookup.host(for: "blog.test:8080") === blog)
        #expect(lookup.host(for: "SHOP.test") === shop)
        #expect(lookup.host(for: nil) === fallback)
        #expect(lookup.host(for: "elsewhere.example") === fallback)
        #expect(lookup.host(for: "blog.test") === blog)
    }

    @Test func hostNameParsing() {
        #expect(HostTable.hostName(of: "[::1]:8080") == "[::1]")
        #expect(HostTable.hostName(of: "Example.COM") == "example.com")
        #expect(HostTable.hostName(of: ":80") == nil)
    }

    @Test func longestPrefixOnSegmentBoundaries() {
        let site = host(["a.test"], prefixes: ["/", "/api", "/api/v2", "/static/"])
        #expect(site.route(for: "/api")?.prefix == "/api")
        #expect(site.route(for: "/api/x")?.prefix == "/api")
        #expect(site.route(for: "/apix")?.prefix == "/")
        #expect(site.route(for: "/api/v2/users")?.prefix == "/api/v2")
        #expect(site.route(for: "/static/app.js")?.prefix == "/static/")
        let api = site.route(for: "/api/x")!
        #expect(api.remainder(of: "/api") == "/")
        #expect(api.remainder(of: "/api/x/y") == "/x/y")
        let assets = site.route(for: "/static/app.js")!
        #expect(assets.remainder(of: "/static/app.js") == "/app.js")
        #expect(assets.remainder(of: "/static/") == "/")
    }

    /// Prefixes are compared byte for byte: a request path with a precomposed "é" does not
    /// fall under a prefix written with a decomposed one (or the other way round), and
    /// neither crashes the worker, whichever is the shorter.
    @Test func prefixesCompareBytesNotCanonicalCharacters() {
        let site = host(["a.test"], prefixes: ["/", "/cafe\u{301}", "/th\u{e9}/"])
        #expect(site.route(for: "/caf\u{e9}")?.prefix == "/")
        #expect(site.route(for: "/caf\u{e9}/menu")?.prefix == "/")
        #expect(site.route(for: "/cafe\u{301}/menu")?.prefix == "/cafe\u{301}")
        #expect(site.route(for: "/the\u{301}/x")?.prefix == "/")
        let tea = site.route(for: "/th\u{e9}/green")!
        #expect(tea.prefix == "/th\u{e9}/" && tea.remainder(of: "/th\u{e9}/green") == "/green")
        let cafe = site.route(for: "/cafe\u{301}/menu")!
        #expect(cafe.remainder(of: "/cafe\u{301}/menu") == "/menu" && cafe.remainder(of: "/cafe\u{301}") == "/")
    }
}
