import Foundation
import Testing

import BerthConfig
@testable import BerthStatic

@Suite struct ConfinementTests {
    @Test func servesAFileWithItsHeaders() throws {
        let root = try TemporaryRoot()
        try root.write("hello.txt", "hello", modified: 784_111_777)
        let site = try root.site { $0.cacheControl = "max-age=60" }
        let response = try #require(site.get("/hello.txt"))
        #expect(response.status == 200)
        #expect(response.bodyText == "hello")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("Content-Length") == "5")
        #expect(response.header("Last-Modified") == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(response.header("ETag") == "\"\(String(784_111_777 * 1_000_000_000, radix: 16))-5\"")
        #expect(response.header("Accept-Ranges") == "bytes")
        #expect(response.header("Cache-Control") == "max-age=60")
        #expect(response.header("Vary") == "Accept-Encoding")
        #expect(response.header("Content-Encoding") == nil)
    }

    /// Files up to 32 KiB are answered from memory; up to 64 KiB with a descriptor for
    /// `sendfile` that also carries the bytes held in memory (for TLS and HTTP/2); larger ones
    /// with a descriptor only. Ranges take the same forms. Every answer has the file's bytes.
    @Test func bodiesBySize() throws {
        let root = try TemporaryRoot()
        let sizes = [32 * 1024, 32 * 1024 + 1, 64 * 1024, 64 * 1024 + 1]
        for size in sizes { try root.write("\(size).bin", bytes: pattern(size)) }
        let site = try root.site()
        for size in sizes {
            let response = try #require(site.get("/\(size).bin"))
            #expect(response.bodyBytes == pattern(size), "\(size)")
            let part = try #require(site.get("/\(size).bin", StaticRequestHeaders(range: "bytes=10-99")))
            #expect(part.status == 206)
            #expect(part.bodyBytes == Array(pattern(size)[10...99]), "\(size)")
            for body in [response.body, part.body] {
                switch body {
                case .bytes:
                    #expect(size <= 32 * 1024, "\(size) from memory")
                case .file(let file, let offset, let count):
                    #expect(size > 32 * 1024, "\(size) from a descriptor")
                    #expect((file.contents != nil) == (size <= 64 * 1024), "\(size) held in memory")
                    if size <= 64 * 1024 {
                        #expect(file.bytes(offset: offset, count: count).map { Array($0.readableBytesView) }
                                == Array(pattern(size)[Int(offset)..<Int(offset + count)]))
                    }
                default:
                    Issue.record("\(size): \(body)")
                }
            }
        }
    }

    /// Hot files carry their fields prepared as HTTP/1.1 lines; those must say exactly what
    /// the field list says, for GET and HEAD, with and without caching options.
    @Test func preparedFieldsMatchTheFieldList() throws {
        let root = try TemporaryRoot()
        try root.write("page.html", "<p>hi</p>")
        try root.write("big.bin", bytes: pattern(100_000))
        for configure: (inout StaticConfig) -> Void in [{ _ in }, { $0.cacheControl = "no-cache"; $0.precompressed = false }] {
            let site = try root.site(configure)
            for (path, method) in [("/page.html", "GET"), ("/page.html", "HEAD"), ("/big.bin", "GET")] {
                let response = try #require(site.get(path, method: method))
                let prepared = try #require(response.serializedHeaders, "\(method) \(path)")
                let lines = response.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
                #expect(String(buffer: prepared) == lines)
            }
        }
        // A part of the file is never prepared; a 304 is, with the fields a 304 has.
        let site = try root.site()
        #expect(try #require(site.get("/page.html", StaticRequestHeaders(range: "bytes=0-1"))).serializedHeaders == nil)
        let notModified = try #require(site.get("/page.html", StaticRequestHeaders(ifNoneMatch: "*")))
        #expect(notModified.status == 304 && notModified.headers.map(\.0) == ["ETag", "Last-Modified", "Vary"])
        let lines = notModified.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        #expect(try String(buffer: #require(notModified.serializedHeaders)) == lines)
    }

    @Test func headHasTheHeadersOfGetAndNoBody() throws {
        let root = try TemporaryRoot()
        try root.write("big.bin", bytes: pattern(100_000))
        try root.write("small.txt", "hello")
        let site = try root.site()
        for path in ["/big.bin", "/small.txt"] {
            let get = try #require(site.get(path))
            let head = try #require(site.get(path, method: "HEAD", StaticRequestHeaders(range: "bytes=0-1")))
            #expect(head.status == 200)
            #expect(head.headers.map(\.0) == get.headers.map(\.0))
            #expect(head.header("Content-Length") == get.header("Content-Length"))
            guard case .empty = head.body else {
                Issue.record("HEAD body must be empty")
                continue
            }
        }
    }

    @Test func otherMethodsGet405OnFilesAndFallThroughElsewhere() throws {
        let root = try TemporaryRoot()
        try root.write("a.txt", "a")
        try root.write("index.html", "i")
        let site = try root.site()
        let response = try #require(site.get("/a.txt", method: "POST"))
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET, HEAD")
        #expect(site.get("/missing", method: "POST") == nil)
        // A directory is not this handler's resource: `POST /` belongs to a fallback app.
        #expect(site.get("/", method: "POST") == nil)
        // Methods are case-sensitive (RFC 9110 §9.1).
        #expect(site.get("/a.txt", method: "get")?.status == 405)
    }

    @Test func dotDotCannotLeaveTheRoot() throws {
        let outer = try TemporaryRoot()
        try outer.write("secret.txt", "secret")
        try outer.write("public/a.txt", "a")
        let site = try StaticSite(options: StaticConfig(root: outer.path + "/public"))
        #expect(site.get("/../secret.txt") == nil)
        #expect(site.get("/a.txt/../../secret.txt") == nil)
        #expect(site.get("/./a.txt") == nil)
        #expect(site.get("//a.txt") == nil)
        #expect(site.get("a.txt") == nil)
        #expect(site.get("/a.txt")?.status == 200)
    }

    @Test func symlinksLeavingTheRootAreHidden() throws {
        let outer = try TemporaryRoot()
        try outer.write("secret.txt", "secret")
        try outer.makeDirectory("secrets")
        try outer.write("secrets/key.txt", "key")
        try outer.write("public/inside.txt", "inside")
        try outer.makeDirectory("public/sub")
        try outer.symlink("public/out.txt", to: "../secret.txt")
        try outer.symlink("public/abs.txt", to: outer.path + "/secret.txt")
        try outer.symlink("public/outdir", to: "../secrets")
        try outer.symlink("public/sub/up.txt", to: "../inside.txt")
        try outer.symlink("public/in.txt", to: "inside.txt")
        try outer.symlink("public/indir", to: "sub")

        let confined = try StaticSite(options: StaticConfig(root: outer.path + "/public"))
        #expect(confined.get("/out.txt") == nil)
        #expect(confined.get("/abs.txt") == nil)
        #expect(confined.get("/outdir/key.txt") == nil)
        #expect(confined.get("/outdir") == nil)
        #expect(confined.get("/in.txt")?.bodyText == "inside")
        #expect(confined.get("/sub/up.txt")?.bodyText == "inside")
        #expect(confined.get("/indir")?.status == 301)

        var options = StaticConfig(root: outer.path + "/public")
        options.symlinksOutsideRoot = true
        let open = try StaticSite(options: options)
        #expect(open.get("/out.txt")?.bodyText == "secret")
        #expect(open.get("/abs.txt")?.bodyText == "secret")
        #expect(open.get("/outdir/key.txt")?.bodyText == "key")
    }

    @Test func dotfilesAreHiddenExceptWellKnown() throws {
        let root = try TemporaryRoot()
        try root.write(".env", "SECRET=1")
        try root.write(".git/config", "[core]")
        try root.write("a/.htpasswd", "x")
        try root.write(".well-known/acme-challenge/token", "proof")
        try root.write("a.txt", "a")
        try root.write("a.txt.gz", bytes: [0x1F, 0x8B])
        let hidden = try root.site()
        #expect(hidden.get("/.env") == nil)
        #expect(hidden.get("/.git/config") == nil)
        #expect(hidden.get("/a/.htpasswd") == nil)
        #expect(hidden.get("/.well-known/acme-challenge/token")?.bodyText == "proof")
        // A name whose first byte is "." is hidden even when a combining mark follows it.
        try root.write(".\u{301}env", "SECRET=2")
        #expect(hidden.get("/.\u{301}env") == nil)
        let shown = try root.site { $0.dotfiles = true }
        #expect(shown.get("/.\u{301}env")?.bodyText == "SECRET=2")
        #expect(shown.get("/.env")?.bodyText == "SECRET=1")
        #expect(shown.get("/.git/config")?.bodyText == "[core]")
    }

    @Test func onlyRegularFilesAreServed() throws {
        let root = try TemporaryRoot()
        #expect(mkfifo(root.path + "/pipe", 0o644) == 0)
        let site = try root.site()
        #expect(site.get("/pipe") == nil)
        #expect(site.get("/nothing") == nil)
        try root.write("file.txt", "x")
        #expect(site.get("/file.txt/") == nil)
    }

    @Test func missingRootThrows() throws {
        #expect(throws: StaticSiteError.self) { try StaticSite(options: StaticConfig(root: "/nonexistent/berth")) }
        #expect(throws: StaticSiteError.rootNotAbsolute(path: "relative")) {
            try StaticSite(options: StaticConfig(root: "relative"))
        }
        let root = try TemporaryRoot()
        #expect(throws: StaticSiteError.invalidIndexName("../x")) { try root.site { $0.index = ["../x"] } }
    }
}

@Suite struct DirectoryTests {
    @Test func directoryWithoutSlashRedirectsKeepingTheQuery() throws {
        let root = try TemporaryRoot()
        try root.write("docs/index.html", "docs")
        try root.write("my dir?#/index.html", "odd")
        let site = try root.site()
        let request = StaticRequest(method: "GET", path: "/docs", originalPath: "/site/docs", query: "a=1&b=%20")
        guard case .response(let response) = site.respond(to: request) else {
            Issue.record("expected a redirect")
            return
        }
        #expect(response.status == 301)
        #expect(response.header("Location") == "/site/docs/?a=1&b=%20")
        #expect(response.header("Content-Length") == "0")
        #expect(site.get("/docs")?.header("Location") == "/docs/")
        #expect(site.get("/my dir?#")?.header("Location") == "/my%20dir%3F%23/")
        #expect(site.get("/my dir?#/")?.bodyText == "odd")
        #expect(site.get("/docs", method: "HEAD")?.status == 301)
    }

    @Test func indexFilesInOrder() throws {
        let root = try TemporaryRoot()
        try root.write("index.html", "root index")
        try root.write("a/index.htm", "htm")
        try root.write("b/index.html", "html")
        try root.write("b/index.htm", "htm")
        try root.makeDirectory("c/index.html")
        let site = try root.site { $0.index = ["index.html", "index.htm"] }
        let rootResponse = try #require(site.get("/"))
        #expect(rootResponse.bodyText == "root index")
        #expect(rootResponse.header("Content-Type") == "text/html; charset=utf-8")
        #expect(site.get("/a/")?.bodyText == "htm")
        #expect(site.get("/b/")?.bodyText == "html")
        // A directory named like an index file is not an index file.
        #expect(site.get("/c/") == nil)
    }

    @Test func listingOffByDefault() throws {
        let root = try TemporaryRoot()
        try root.write("d/a.txt", "a")
        #expect(try root.site().get("/d/") == nil)
    }

    @Test func listingEscapesSortsAndHidesDotfiles() throws {
        let root = try TemporaryRoot()
        try root.write("d/b.txt", "bb", modified: 784_111_777)
        try root.write("d/a <&> \"x\".txt", "a")
        try root.write("d/javascript:alert(1)", "j")
        try root.write("d/.hidden", "h")
        try root.write("d/zdir/x", "x")
        try root.makeDirectory("d/adir")
        #expect(mkfifo(root.path + "/d/fifo", 0o644) == 0)
        let site = try root.site { $0.listing = true }
        let response = try #require(site.get("/d/"))
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        #expect(response.header("Content-Length") == String(response.bodyBytes.count))
        let page = response.bodyText
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<title>Index of /d/</title>"))
        #expect(page.contains("<a href=\"../\">../</a>"))
        #expect(page.contains("<a href=\"a%20%3C%26%3E%20%22x%22.txt\">a &lt;&amp;&gt; &quot;x&quot;.txt</a>"))
        #expect(page.contains("<a href=\"javascript%3Aalert%281%29\">"))
        #expect(page.contains("<td>1994-11-06 08:49</td><td class=\"size\">2</td>"))
        #expect(!page.contains(".hidden"))
        #expect(!page.contains("fifo"))
        let order = ["adir/", "zdir/", "a%20", "b.txt", "javascript"].map { page.range(of: $0)!.lowerBound }
        #expect(order == order.sorted())

        let withDotfiles = try root.site {
            $0.listing = true
            $0.dotfiles = true
        }
        #expect(withDotfiles.get("/d/")?.bodyText.contains("href=\".hidden\"") == true)
        // HEAD carries the page as GET does, so the filters see what GET's fields come from;
        // the protocol writer leaves the body out.
        let head = try #require(site.get("/d/", method: "HEAD"))
        #expect(head.bodyText == site.get("/d/")?.bodyText && head.header("Content-Length") == String(head.bodyBytes.count))
    }

    @Test func listingIndexTakesPrecedence() throws {
        let root = try TemporaryRoot()
        try root.write("index.html", "index")
        let site = try root.site { $0.listing = true }
        #expect(site.get("/")?.bodyText == "index")
        try root.remove("index.html")
        let page = try #require(site.get("/")).bodyText
        #expect(page.contains("Index of /"))
        #expect(!page.contains("../"))
    }

    @Test func listingHidesSymlinksLeavingTheRoot() throws {
        let outer = try TemporaryRoot()
        try outer.write("secret.txt", "secret")
        try outer.write("public/in.txt", "in")
        try outer.symlink("public/out.txt", to: "../secret.txt")
        try outer.symlink("public/link.txt", to: "in.txt")
        var options = StaticConfig(root: outer.path + "/public")
        options.listing = true
        let page = try #require(try StaticSite(options: options).get("/")).bodyText
        #expect(page.contains("link.txt"))
        #expect(!page.contains("out.txt"))
    }
}

@Suite struct ResolvedPathConfinementTests {
    /// The path used when openat2 is unavailable (ENOSYS) confines just as well.
    @Test func realpathFallbackConfines() throws {
        let outer = try TemporaryRoot()
        try outer.write("secret.txt", "secret")
        try outer.write("public/inside.txt", "inside")
        try outer.makeDirectory("public/sub")
        try outer.symlink("public/out.txt", to: "../secret.txt")
        try outer.symlink("public/abs.txt", to: outer.path + "/secret.txt")
        try outer.symlink("public/sub/up.txt", to: "../inside.txt")
        try outer.symlink("public/outdir", to: "..")
        let root = try RootDirectory(path: outer.path + "/public", symlinksOutsideRoot: false, usesOpenat2: false)
        #expect(CachedFile.open("out.txt", in: root) == nil)
        #expect(CachedFile.open("abs.txt", in: root) == nil)
        #expect(CachedFile.open("outdir/secret.txt", in: root) == nil)
        #expect(!root.isConfinedDirectory("outdir"))
        #expect(root.isConfinedDirectory("sub"))
        #expect(root.isConfinedDirectory("."))
        #expect(CachedFile.open("inside.txt", in: root)?.contents.map { String(buffer: $0) } == "inside")
        #expect(CachedFile.open("sub/up.txt", in: root)?.contents.map { String(buffer: $0) } == "inside")
    }

    /// Paths are compared as the file system compares them, byte for byte: a sibling whose
    /// name is canonically equivalent to the root's (a decomposed "e\u{301}" beside a
    /// precomposed "\u{e9}") is another directory, outside the root.
    @Test func realpathFallbackComparesBytes() throws {
        let outer = try TemporaryRoot()
        try outer.write("caf\u{e9}/menu.txt", "menu")
        try outer.write("cafe\u{301}/secret.txt", "secret")
        try outer.symlink("caf\u{e9}/sibling.txt", to: "../cafe\u{301}/secret.txt")
        let root = try RootDirectory(path: outer.path + "/caf\u{e9}", symlinksOutsideRoot: false, usesOpenat2: false)
        #expect(CachedFile.open("sibling.txt", in: root) == nil)
        #expect(CachedFile.open("menu.txt", in: root)?.contents.map { String(buffer: $0) } == "menu")
    }
}
