import Testing

@testable import BerthStatic

/// What the static layer gives the server's compression filter: Accept-Encoding ranked in the
/// server's order, the tags of compressed variants, and the file a response is about.
@Suite struct CompressedVariantTests {
    @Test func acceptEncodingRanksTheServersOffer() {
        let offer: [ContentCoding] = [.brotli, .gzip]
        func preferred(_ header: String, _ offered: [ContentCoding] = offer) -> [ContentCoding] {
            AcceptEncoding(header).preferred(among: offered)
        }
        #expect(preferred("gzip, deflate, br") == [.brotli, .gzip])
        // Ties go to the server's order, whatever the client's order.
        #expect(preferred("br, gzip", [.gzip, .brotli]) == [.gzip, .brotli])
        #expect(preferred("gzip;q=0.9, br;q=0.8") == [.gzip, .brotli])
        #expect(preferred("br;q=0, gzip") == [.gzip])
        #expect(preferred("br;q=0, *") == [.gzip])
        #expect(preferred("*;q=0.3, br") == [.brotli, .gzip])
        #expect(preferred("*;q=0") == [])
        // identity;q=0 refuses the uncompressed form, not the codings.
        #expect(preferred("identity;q=0, gzip;q=0.2") == [.gzip])
        // A coding ranked below identity is not worth sending.
        #expect(preferred("identity, gzip;q=0.5") == [])
        #expect(preferred("identity;q=0.5, gzip;q=0.5") == [.gzip])
        // Empty: no coding is wanted (RFC 9110 §12.5.3); unknown codings and bad q-values.
        #expect(preferred("") == [])
        #expect(preferred("compress, deflate") == [])
        #expect(preferred("gzip;q=1.5, br;q=abc") == [])
        #expect(preferred("X-GZIP ; Q=0.500") == [.gzip])
        #expect(AcceptEncoding("gzip;q=0.25").quality(of: .gzip) == 250)
        #expect(AcceptEncoding("*;q=0.5").quality(of: .zstandard) == 500)
    }

    @Test func variantTagsAndIfNoneMatch() {
        #expect(ContentCoding.gzip.variantEntityTag(of: "\"abc\"", level: 5) == "\"abc-gzip5\"")
        #expect(ContentCoding.brotli.variantEntityTag(of: "W/\"abc\"", level: 11) == "W/\"abc-br11\"")
        #expect(ContentCoding.gzip.variantEntityTag(of: "abc", level: 5) == nil)

        let current = EntityTag(opaque: "abc", isWeak: false)
        #expect(EntityTagCondition("\"abc-gzip5\"").matchesOrCompressedVariant(current))
        #expect(EntityTagCondition("\"x\", W/\"abc-br11\"").matchesOrCompressedVariant(current))
        #expect(EntityTagCondition("\"abc\"").matchesOrCompressedVariant(current))
        #expect(!EntityTagCondition("\"abc-zstd3\"").matchesOrCompressedVariant(current))
        #expect(!EntityTagCondition("\"abd-gzip5\"").matchesOrCompressedVariant(current))
        // A level is part of every variant tag: without one it is some other tag.
        #expect(!EntityTagCondition("\"abc-gzip\"").matchesOrCompressedVariant(current))
        // If-Match: strong comparison, with the representation or a variant made from it.
        #expect(EntityTagCondition("\"abc-gzip5\"").matchesOrCompressedVariant(current, weak: false))
        #expect(!EntityTagCondition("W/\"abc-gzip5\"").matchesOrCompressedVariant(current, weak: false))
        #expect(!EntityTagCondition("\"abc-gzip5\"").matches(current, weak: false))
    }

    @Test func responsesCarryTheFileTheyAreAbout() throws {
        let root = try TemporaryRoot()
        let big = String(repeating: "<p>compressible</p>", count: 5000)
        try root.write("page.html", big)
        try root.write("small.css", "body{}")
        try root.write("small.css.gz", "GZ")
        let site = try root.site()

        let full = try #require(site.get("/page.html"))
        let source = try #require(full.variantSource)
        #expect(source.contentType == "text/html; charset=utf-8" && source.size == Int64(big.utf8.count))
        #expect(source.contents().map { String(buffer: $0) } == big)
        #expect(site.get("/page.html", method: "HEAD")?.variantSource?.identity == source.identity)

        // A 304 for a client holding the gzip variant, which the filter gives the variant's tag.
        let etag = try #require(full.header("ETag"))
        let variantTag = try #require(ContentCoding.gzip.variantEntityTag(of: etag, level: 5))
        let notModified = try #require(site.get("/page.html", StaticRequestHeaders(ifNoneMatch: variantTag)))
        #expect(notModified.status == 304 && notModified.variantSource != nil)

        // Ranges are of the identity body and sidecars are variants already: no source.
        #expect(site.get("/page.html", StaticRequestHeaders(range: "bytes=0-9"))?.variantSource == nil)
        let sidecar = try #require(site.get("/small.css", StaticRequestHeaders(acceptEncoding: "gzip")))
        #expect(sidecar.header("Content-Encoding") == "gzip" && sidecar.variantSource == nil)

        // A changed file has another identity.
        try root.write("page.html", big + "!")
        #expect(site.get("/page.html")?.variantSource?.identity != source.identity)
    }
}
