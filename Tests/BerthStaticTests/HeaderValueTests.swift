import Testing

@testable import BerthStatic

@Suite struct HTTPDateTests {
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.format(4_102_444_799) == "Thu, 31 Dec 2099 23:59:59 GMT")
    }

    @Test func parsesTheThreeFormats() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        #expect(HTTPDate.parse("  Sun, 06 Nov 1994 08:49:37 GMT ") == 784_111_777)
    }

    @Test func roundTrips() {
        for seconds in stride(from: 0, to: 4_000_000_000, by: 86_399 * 37 + 13) {
            #expect(HTTPDate.parse(HTTPDate.format(seconds)) == seconds)
        }
    }

    @Test func refusesInvalidDates() {
        for text in [
            "", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun Nov  6 08:49 1994", "1994-11-06T08:49:37Z",
            // Two digits are two digits: a sign is no digit.
            "Sun, +6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov +994 08:49:37 GMT", "Sun, 06 Nov 1994 +8:49:37 GMT",
            // Names are case-sensitive (RFC 9110 §5.6.7).
            "Sun, 06 nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 gmt",
        ] {
            #expect(HTTPDate.parse(text) == nil, "\(text)")
        }
    }
}

@Suite struct EntityTagConditionTests {
    @Test func listsAreSplitOutsideQuotes() {
        let current = EntityTag(opaque: "a,b", isWeak: false)
        #expect(EntityTagCondition(" \"x\" , \"a,b\" ").matches(current, weak: true))
        #expect(EntityTagCondition("W/\"a,b\"").matches(current, weak: true))
        #expect(!EntityTagCondition("W/\"a,b\"").matches(current, weak: false))
        #expect(EntityTagCondition(" * ").matches(current, weak: false))
        // Not "*", and no entity-tag: nothing matches.
        #expect(!EntityTagCondition("*x").matches(current, weak: true))
        #expect(!EntityTagCondition("\"a, b\"").matches(current, weak: true))
        #expect(!EntityTagCondition("").matches(current, weak: true))
    }

    /// "The same characters" (RFC 9110 §8.8.3.2) are the same octets: a precomposed "é" and an
    /// "e" with a combining accent are one character to a String and two tags to HTTP.
    @Test func tagsCompareOctetByOctet() {
        let precomposed = EntityTag(opaque: "caf\u{E9}", isWeak: false)
        #expect(EntityTagCondition("\"caf\u{E9}\"").matches(precomposed, weak: false))
        #expect(!EntityTagCondition("\"cafe\u{301}\"").matches(precomposed, weak: true))
        #expect(EntityTag.parse("\"cafe\u{301}\"") != precomposed)
        #expect(EntityTagCondition("\"caf\u{E9}-gzip5\"").matchesOrCompressedVariant(precomposed))
        #expect(!EntityTagCondition("\"cafe\u{301}-gzip5\"").matchesOrCompressedVariant(precomposed))
    }
}

@Suite struct MIMETypesTests {
    @Test func textualTypesCarryCharset() {
        let types = MIMETypes.standard
        #expect(types.type(forExtension: "html") == "text/html; charset=utf-8")
        #expect(types.type(forExtension: "css") == "text/css; charset=utf-8")
        #expect(types.type(forExtension: "js") == "text/javascript; charset=utf-8")
        #expect(types.type(forExtension: "json") == "application/json; charset=utf-8")
        #expect(types.type(forExtension: "xml") == "application/xml; charset=utf-8")
        #expect(types.type(forExtension: "svg") == "image/svg+xml; charset=utf-8")
        #expect(types.type(forExtension: "webmanifest") == "application/manifest+json; charset=utf-8")
        #expect(types.type(forExtension: "png") == "image/png")
        #expect(types.type(forExtension: "woff2") == "font/woff2")
        #expect(types.type(forExtension: "wasm") == "application/wasm")
    }

    @Test func lookupIsCaseInsensitiveWithFallback() {
        let types = MIMETypes.standard
        #expect(types.type(forExtension: "PNG") == "image/png")
        #expect(types.type(forExtension: ".png") == "image/png")
        #expect(types.type(forExtension: "nope") == "application/octet-stream")
        #expect(types.type(forPath: "/a/b.tar.GZ") == "application/gzip")
        #expect(types.type(forPath: "/a.d/README") == "application/octet-stream")
        #expect(types.type(forPath: ".bashrc") == "application/octet-stream")
    }

    @Test func siteOverridesTheTable() throws {
        let root = try TemporaryRoot()
        try root.write("page.html", "<p>")
        try root.write("data.foo", "x")
        let site = try root.site { $0.mimeTypes = ["html": "text/html", "FOO": "application/x-foo"] }
        #expect(site.get("/page.html")?.header("Content-Type") == "text/html")
        #expect(site.get("/data.foo")?.header("Content-Type") == "application/x-foo")
    }
}

@Suite struct AcceptEncodingTests {
    @Test func ordersByQualityThenServerPreference() {
        #expect(AcceptEncoding.preferredCodings("gzip, deflate, br, zstd") == [.brotli, .zstandard, .gzip])
        #expect(AcceptEncoding.preferredCodings("gzip;q=1, br;q=0.5") == [.gzip, .brotli])
        #expect(AcceptEncoding.preferredCodings("br;q=0, gzip") == [.gzip])
        #expect(AcceptEncoding.preferredCodings("*") == [.brotli, .zstandard, .gzip])
        #expect(AcceptEncoding.preferredCodings("*;q=0.5, gzip;q=0, zstd") == [.zstandard, .brotli])
        #expect(AcceptEncoding.preferredCodings("identity") == [])
        #expect(AcceptEncoding.preferredCodings("x-gzip") == [.gzip])
        #expect(AcceptEncoding.preferredCodings("GZIP ; Q=0.8") == [.gzip])
        #expect(AcceptEncoding.preferredCodings("gzip;q=2") == [])
        #expect(AcceptEncoding.preferredCodings("gzip;q=0.5, identity;q=0.9") == [])
    }

    /// The field is read as bytes: odd spacing, empty elements and parameters, several `q`s
    /// (the last counts) and q-values that are not RFC 9110's are all read the same way.
    @Test func readsEveryShapeOfTheField() {
        #expect(AcceptEncoding.preferredCodings(" gzip ;\tq = 0.5 ,, br ; ; q=0.7 , ") == [.brotli, .gzip])
        #expect(AcceptEncoding.preferredCodings("gzip;q=0.1;q=0.9, br;q=0.5") == [.gzip, .brotli])
        #expect(AcceptEncoding.preferredCodings("gzip;level=9, br;q=") == [.gzip])
        #expect(AcceptEncoding.preferredCodings("gzip;q=0.1234, br;q=1.0, zstd;q=1.001") == [.brotli])
        #expect(AcceptEncoding.preferredCodings("gzip;q=.5, br;q=0., zstd;q=1.") == [.zstandard])
        #expect(AcceptEncoding.preferredCodings("") == [])
        #expect(AcceptEncoding.preferredCodings("gzip,\u{301}br, zstd\u{301}") == [.gzip])
        #expect(AcceptEncoding.parseQuality("0.125") == 125)
        #expect(AcceptEncoding.parseQuality("1.000") == 1000)
        #expect(AcceptEncoding.parseQuality("0.5x") == nil)
    }

    /// `best(among:)`, which the compression filter asks, is the head of the full ranking.
    @Test func bestIsTheFirstOfTheRanking() {
        let fields = ["gzip, deflate, br, zstd", "gzip;q=1, br;q=0.5", "*;q=0.5, gzip;q=0, zstd", "identity",
                      "br;q=0.5, gzip;q=0.5", "gzip;q=0.5, identity;q=0.9", "*", "zstd;q=0.9, gzip;q=0.9, br;q=0.8"]
        for field in fields {
            let encoding = AcceptEncoding(field)
            for offered in [ContentCoding.producedOnTheFly, ContentCoding.allCases, [.gzip]] {
                #expect(encoding.best(among: offered) == encoding.preferred(among: offered).first, "\(field)")
            }
        }
    }
}
