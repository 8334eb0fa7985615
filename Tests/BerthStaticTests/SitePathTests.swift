import Testing

@testable import BerthStatic

/// A request path becomes a path under the site's root, or nothing: the plain form takes a
/// pass of its own, every other form the segment by segment one, and both must agree.
@Suite struct SitePathTests {
    @Test func plainPathsLoseTheirSlashes() throws {
        let cases: [(String, String, Bool)] = [
            ("/", ".", true), ("/a", "a", false), ("/a/", "a", true), ("/docs/guide/index.html", "docs/guide/index.html", false),
            ("/é/ü.txt", "é/ü.txt", false), ("/a.b/c", "a.b/c", false),
        ]
        for (path, relative, trailing) in cases {
            let target = try #require(SitePath(path, dotfiles: false), "\(path)")
            #expect(target.relative == relative, "\(path)")
            #expect(target.hasTrailingSlash == trailing, "\(path)")
        }
    }

    @Test func whatANormalizedPathCannotHoldIsRefused() {
        for path in ["", "a", "a/b", "//a", "/a//b", "/a/./b", "/a/../b", "/..", "/.", "/a\u{0}b", "/\u{0}"] {
            #expect(SitePath(path, dotfiles: true) == nil, "\(path.debugDescription)")
        }
    }

    @Test func hiddenNamesOnlyWithDotfiles() throws {
        #expect(SitePath("/.git/config", dotfiles: false) == nil)
        #expect(SitePath("/a/.env", dotfiles: false) == nil)
        #expect(try #require(SitePath("/.git/config", dotfiles: true)).relative == ".git/config")
        let wellKnown = try #require(SitePath("/.well-known/acme-challenge/x", dotfiles: false))
        #expect(wellKnown.relative == ".well-known/acme-challenge/x")
        #expect(try #require(SitePath("/a/.hidden/", dotfiles: true)).hasTrailingSlash)
    }
}
