import Foundation
import Testing

/// Compression on the fly with real clients over HTTP/1.1, HTTPS and h2: bytes decoded by
/// Python's gzip and brotli modules, `curl --compressed`, streamed app chunks timed as they
/// arrive, and headless Chromium on an example site.
@Suite("Compression on the fly: gzip and Brotli for files, apps, pages", .serialized)
struct CompressionTests {
    /// About 24 KiB of HTML.
    static let page = "<!DOCTYPE html><title>Roasts</title>\n"
        + (0..<400).map { "<p>Batch \($0): washed, light roast, jasmine and bergamot.</p>\n" }.joined()
    static let png = String(repeating: "\u{89}PNG binary-ish ", count: 100)

    static func start(app: Bool = false) throws -> BerthProcess {
        let certificate = try TestCertificates.make(["zip.test", "small.test"])
        let root = repositoryRoot.path
        let apps = app ? "apps:\n  misbehaving: { package: \(root)/Tests/Fixtures/apps/misbehaving, product: MisbehavingApp }" : ""
        let api = app ? "      /api: { app: misbehaving }" : ""
        var files = [
            "site/page.html": Self.page, "site/small.txt": "short", "site/image.png": Self.png,
            "site/style.css": String(repeating: "body { color: teal; }\n", count: 40), "site/style.css.gz": "SIDECAR",
            "site/404.html": "<h1>Not here</h1>" + String(repeating: "<p>Try the roasts page instead.</p>", count: 20),
        ]
        for index in 0..<30 { files["site/files/roast-\(index)-washed-light.txt"] = "\(index)" }
        let yaml = """
            listen:
              - { address: 127.0.0.1, port: 0 }
              - { address: 127.0.0.1, port: 0, tls: true }
            threads: 2
            logs: { error: stderr, access: access.log }
            \(apps)
            hosts:
              zip.test:
                default: true
                tls: { certificate: \(certificate.certificate), key: \(certificate.key) }
                errors: { 404: site/404.html }
                paths:
                  /: { static: site }
                  /files: { static: site/files, listing: true }
                  /raw: { static: site, cache_control: "public, no-transform" }
                  /off: { static: site, compress: off }
                  /gzip9: { static: site, compress: { encodings: [gzip], level: { gzip: 9 } } }
            \(api)
            """
        return try BerthProcess(yaml: yaml, files: files, startTimeout: app ? 900 : 60)
    }

    private func get(_ berth: BerthProcess, _ path: String, over transport: Transport, accept: String?, _ headers: [String] = [],
                     method: String = "GET") throws -> CurlResponse {
        try berth.curl(path, host: "zip.test", over: transport, method: method, headers: (accept.map { ["Accept-Encoding: \($0)"] } ?? []) + headers)
    }

    @Test(arguments: Transport.allCases)
    func filesDecodeToThemselvesWithEachCoding(over transport: Transport) throws {
        let berth = try Self.start()
        let original = Data(Self.page.utf8)
        var sizes: [Int] = []
        for (accept, coding) in [("gzip", "gzip"), ("br", "br"), ("gzip, deflate, br, zstd", "br")] {
            let answer = try get(berth, "/page.html", over: transport, accept: accept)
            #expect(answer.status == 200 && answer.header("content-encoding") == coding, "\(answer)")
            #expect(answer.header("content-length") == String(answer.body.count))
            #expect(answer.header("vary") == "Accept-Encoding" && answer.header("accept-ranges") == nil)
            #expect(answer.header("etag")?.hasSuffix("-\(coding)\(coding == "br" ? 4 : 5)\"") == true)
            #expect(answer.body.count < original.count / 4)
            sizes.append(answer.body.count)
            #expect(try CompressionClients.decode(answer.body, coding: coding) == original)
            // HEAD: the fields GET has, the compressed length included.
            let head = try get(berth, "/page.html", over: transport, accept: accept, method: "HEAD")
            #expect(head.header("content-encoding") == coding && head.header("content-length") == String(answer.body.count))
            #expect(head.header("etag") == answer.header("etag"))
        }
        let decoded = try berth.curl("/page.html", host: "zip.test", over: transport, extra: ["--compressed"])
        #expect(decoded.text == Self.page && decoded.header("content-encoding") != nil)
        let identity = try get(berth, "/page.html", over: transport, accept: nil)
        #expect(identity.header("content-encoding") == nil && identity.text == Self.page)
        #expect(identity.header("vary") == "Accept-Encoding" && identity.header("accept-ranges") == "bytes")
        // Another level is another variant: still the same content.
        let nine = try get(berth, "/gzip9/page.html", over: transport, accept: "br, gzip")
        #expect(nine.header("content-encoding") == "gzip")
        #expect(try CompressionClients.decode(nine.body, coding: "gzip") == original)
        // ...with a tag of its own: a strong tag promises the same bytes.
        let five = try get(berth, "/page.html", over: transport, accept: "gzip")
        #expect(nine.header("etag")?.hasSuffix("-gzip9\"") == true && five.header("etag")?.hasSuffix("-gzip5\"") == true)
        #expect(nine.header("etag")?.dropLast(2) == five.header("etag")?.dropLast(2))
        // The access log counts the bytes sent: compressed ones.
        let lines = sizes.map { "\"GET /page.html \(transport.logVersion)\" 200 \($0) " }
        let log = berth.accessLog(containing: lines)
        for line in lines { #expect(log.contains(line), "\(log)") }
    }

    @Test func qValuesPickTheCoding() throws {
        let berth = try Self.start()
        let cases: [(String?, String?)] = [
            ("gzip, br", "br"), ("br;q=0, gzip", "gzip"), ("gzip;q=1, br;q=0.8", "gzip"), ("gzip;q=0.5, br;q=0.5", "br"),
            ("identity;q=0, *", "br"), ("*;q=0.1, gzip;q=0.2", "gzip"), ("*;q=0", nil), ("gzip;q=0", nil), ("identity", nil),
            ("compress, deflate", nil), ("", nil), (nil, nil), ("X-Gzip", "gzip"), ("identity, gzip;q=0.4", nil),
        ]
        for (accept, coding) in cases {
            let answer = try get(berth, "/page.html", over: .http1, accept: accept)
            #expect(answer.header("content-encoding") == coding, "Accept-Encoding: \(accept ?? "(none)")")
            #expect(answer.header("vary") == "Accept-Encoding")
            let content = try coding.map { try CompressionClients.decode(answer.body, coding: $0) } ?? answer.body
            #expect(content == Data(Self.page.utf8))
        }
    }

    @Test(arguments: Transport.allCases)
    func whatIsNotCompressed(over transport: Transport) throws {
        let berth = try Self.start()
        let range = try get(berth, "/page.html", over: transport, accept: "gzip, br", ["Range: bytes=0-14"])
        #expect(range.status == 206 && range.text == "<!DOCTYPE html>" && range.header("content-encoding") == nil)
        let ranges = try get(berth, "/page.html", over: transport, accept: "gzip", ["Range: bytes=0-1,5-6"])
        #expect(ranges.status == 206 && ranges.header("content-type")?.hasPrefix("multipart/byteranges") == true)
        #expect(ranges.header("content-encoding") == nil)
        let small = try get(berth, "/small.txt", over: transport, accept: "gzip")
        #expect(small.text == "short" && small.header("content-encoding") == nil && small.header("vary") == "Accept-Encoding")
        let image = try get(berth, "/image.png", over: transport, accept: "gzip, br")
        #expect(image.text == Self.png && image.header("content-encoding") == nil)
        let sidecar = try get(berth, "/style.css", over: transport, accept: "gzip")
        #expect(sidecar.text == "SIDECAR" && sidecar.header("content-encoding") == "gzip")
        #expect(sidecar.header("etag")?.hasSuffix("-gz\"") == true)
        let noTransform = try get(berth, "/raw/page.html", over: transport, accept: "gzip, br")
        #expect(noTransform.text == Self.page && noTransform.header("content-encoding") == nil)
        let off = try get(berth, "/off/page.html", over: transport, accept: "gzip, br")
        #expect(off.text == Self.page && off.header("content-encoding") == nil)
    }

    @Test(arguments: Transport.allCases)
    func entityTagsAndNotModifiedPerVariant(over transport: Transport) throws {
        let berth = try Self.start()
        let identityTag = try #require(try get(berth, "/page.html", over: transport, accept: nil).header("etag"))
        let gzipTag = try #require(try get(berth, "/page.html", over: transport, accept: "gzip").header("etag"))
        let brotliTag = try #require(try get(berth, "/page.html", over: transport, accept: "br").header("etag"))
        #expect(Set([identityTag, gzipTag, brotliTag]).count == 3)
        #expect(gzipTag == identityTag.dropLast() + "-gzip5\"" && brotliTag == identityTag.dropLast() + "-br4\"")

        // A client revalidating the variant it holds gets 304 with that variant's tag.
        let gzip304 = try get(berth, "/page.html", over: transport, accept: "gzip", ["If-None-Match: \(gzipTag)"])
        #expect(gzip304.status == 304 && gzip304.header("etag") == gzipTag && gzip304.header("vary") == "Accept-Encoding")
        #expect(gzip304.body.isEmpty)
        // Any variant's tag matches (weak comparison); the 304 names what this request would get.
        let brotli304 = try get(berth, "/page.html", over: transport, accept: "br", ["If-None-Match: \(gzipTag)"])
        #expect(brotli304.status == 304 && brotli304.header("etag") == brotliTag)
        let fromIdentity = try get(berth, "/page.html", over: transport, accept: "gzip", ["If-None-Match: \"x\", \(identityTag)"])
        #expect(fromIdentity.status == 304 && fromIdentity.header("etag") == gzipTag)
        #expect(try get(berth, "/page.html", over: transport, accept: "gzip", ["If-None-Match: \"other-gzip5\""]).status == 200)
        // If-Match with the tag of the variant the client holds: that is a current
        // representation (strong comparison, RFC 9110 §13.1.1), so the request proceeds.
        let ifMatch = try get(berth, "/page.html", over: transport, accept: "gzip", ["If-Match: \(gzipTag)"])
        #expect(ifMatch.status == 200 && ifMatch.header("content-encoding") == "gzip")
        #expect(try get(berth, "/page.html", over: transport, accept: "gzip", ["If-Match: \"other-gzip5\""]).status == 412)
        // If-Range with a variant's tag is no strong match for the identity body: the whole
        // answer, compressed, rather than a range of the wrong bytes.
        let ifRange = try get(berth, "/page.html", over: transport, accept: "gzip", ["Range: bytes=0-9", "If-Range: \(gzipTag)"])
        #expect(ifRange.status == 200 && ifRange.header("content-encoding") == "gzip")
    }

    @Test func aChangedFileIsNeverAnsweredWithAnOldVariant() throws {
        let berth = try Self.start()
        let first = try get(berth, "/page.html", over: .http1, accept: "br")
        #expect(try CompressionClients.decode(first.body, coding: "br") == Data(Self.page.utf8))
        let changed = Self.page.replacingOccurrences(of: "jasmine", with: "apricot")  // same size
        try Data(changed.utf8).write(to: berth.directory.appendingPathComponent("site/page.html"))
        let second = try get(berth, "/page.html", over: .http1, accept: "br")
        #expect(second.header("etag") != first.header("etag"))
        #expect(try CompressionClients.decode(second.body, coding: "br") == Data(changed.utf8))
    }

    @Test(arguments: Transport.allCases)
    func errorPagesAndListingsAreCompressed(over transport: Transport) throws {
        let berth = try Self.start()
        let missing = try get(berth, "/nothing", over: transport, accept: "gzip")
        #expect(missing.status == 404 && missing.header("content-encoding") == "gzip")
        let page = try CompressionClients.decode(missing.body, coding: "gzip")
        #expect(String(decoding: page, as: UTF8.self).hasPrefix("<h1>Not here</h1>"))
        let listing = try get(berth, "/files/", over: transport, accept: "br")
        #expect(listing.status == 200 && listing.header("content-encoding") == "br")
        #expect(String(decoding: try CompressionClients.decode(listing.body, coding: "br"), as: UTF8.self).contains("roast-29-washed-light.txt"))
        // HEAD of the listing: GET's fields, the compressed length included.
        let listingHead = try get(berth, "/files/", over: transport, accept: "br", method: "HEAD")
        #expect(listingHead.status == 200 && listingHead.header("content-encoding") == "br")
        #expect(listingHead.header("content-length") == String(listing.body.count))
    }
}
