import Testing

@testable import BerthStatic

@Suite struct PrecompressedTests {
    let root: TemporaryRoot

    init() throws {
        root = try TemporaryRoot()
        try root.write("app.js", "console.log('identity')")
        try root.write("app.js.br", "BR")
        try root.write("app.js.zst", "ZSTD")
        try root.write("app.js.gz", "GZIP")
        try root.write("only-gz.css", "body{}")
        try root.write("only-gz.css.gz", "GZ")
    }

    private func get(_ site: StaticSite, _ path: String, _ acceptEncoding: String?) throws -> StaticResponse {
        try #require(site.get(path, StaticRequestHeaders(acceptEncoding: acceptEncoding)))
    }

    @Test func picksThePreferredSidecar() throws {
        let site = try root.site()
        let br = try get(site, "/app.js", "gzip, deflate, br, zstd")
        #expect(br.bodyText == "BR")
        #expect(br.header("Content-Encoding") == "br")
        #expect(br.header("Content-Type") == "text/javascript; charset=utf-8")
        #expect(br.header("Content-Length") == "2")
        #expect(br.header("Vary") == "Accept-Encoding")
        #expect(br.header("ETag")?.hasSuffix("-br\"") == true)

        #expect(try get(site, "/app.js", "gzip, zstd").header("Content-Encoding") == "zstd")
        #expect(try get(site, "/app.js", "gzip").bodyText == "GZIP")
        #expect(try get(site, "/app.js", "gzip").header("ETag")?.hasSuffix("-gz\"") == true)
        #expect(try get(site, "/app.js", "br;q=0.5, gzip").header("Content-Encoding") == "gzip")
        #expect(try get(site, "/app.js", "*").header("Content-Encoding") == "br")
    }

    @Test func qZeroExcludes() throws {
        let site = try root.site()
        #expect(try get(site, "/app.js", "br;q=0, zstd;q=0, gzip").header("Content-Encoding") == "gzip")
        let identity = try get(site, "/app.js", "br;q=0, zstd;q=0, gzip;q=0")
        #expect(identity.header("Content-Encoding") == nil)
        #expect(identity.bodyText == "console.log('identity')")
        #expect(try get(site, "/app.js", "*;q=0").header("Content-Encoding") == nil)
    }

    @Test func missingSidecarFallsBackToTheNextOne() throws {
        let site = try root.site()
        let response = try get(site, "/only-gz.css", "br, zstd, gzip")
        #expect(response.header("Content-Encoding") == "gzip")
        #expect(response.header("Content-Type") == "text/css; charset=utf-8")
        #expect(try get(site, "/only-gz.css", "br").header("Content-Encoding") == nil)
    }

    @Test func identityResponseVariesAndDiffersInETag() throws {
        let site = try root.site()
        let identity = try get(site, "/app.js", nil)
        #expect(identity.header("Vary") == "Accept-Encoding")
        #expect(identity.header("Content-Encoding") == nil)
        let gzip = try get(site, "/app.js", "gzip")
        #expect(identity.header("ETag") != gzip.header("ETag"))
        // A cached identity representation is not a match for the gzip one.
        let conditional = try #require(
            site.get("/app.js", StaticRequestHeaders(ifNoneMatch: identity.header("ETag"), acceptEncoding: "gzip"))
        )
        #expect(conditional.status == 200)
        let matching = try #require(
            site.get("/app.js", StaticRequestHeaders(ifNoneMatch: gzip.header("ETag"), acceptEncoding: "gzip"))
        )
        #expect(matching.status == 304)
        #expect(matching.header("Vary") == "Accept-Encoding")
    }

    @Test func rangesApplyToTheSidecar() throws {
        let site = try root.site()
        let response = try #require(site.get("/app.js", StaticRequestHeaders(range: "bytes=1-2", acceptEncoding: "gzip")))
        #expect(response.status == 206)
        #expect(response.bodyText == "ZI")
        #expect(response.header("Content-Range") == "bytes 1-2/4")
        #expect(response.header("Content-Encoding") == "gzip")
    }

    @Test func disabledPrecompression() throws {
        let site = try root.site { $0.precompressed = false }
        let response = try get(site, "/app.js", "br, gzip")
        #expect(response.header("Content-Encoding") == nil)
        #expect(response.header("Vary") == nil)
    }

    @Test func sidecarsAreNotDirectoriesAndIndexFilesHaveThem() throws {
        try root.makeDirectory("x.txt.gz")
        try root.write("x.txt", "x")
        try root.write("sub/index.html", "<p>")
        try root.write("sub/index.html.gz", "GZ")
        let site = try root.site()
        #expect(try get(site, "/x.txt", "gzip").header("Content-Encoding") == nil)
        let index = try get(site, "/sub/", "gzip")
        #expect(index.header("Content-Encoding") == "gzip")
        #expect(index.header("Content-Type") == "text/html; charset=utf-8")
    }
}
