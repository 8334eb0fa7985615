import Testing

@testable import BerthStatic

/// RFC 9110 §13.2.2 evaluation order, one case per step.
@Suite struct ConditionalRequestTests {
    let root: TemporaryRoot
    let site: StaticSite
    let etag: String
    let modified = 784_111_777
    let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"
    let earlier = "Sat, 05 Nov 1994 08:49:37 GMT"
    let later = "Mon, 07 Nov 1994 08:49:37 GMT"

    init() throws {
        root = try TemporaryRoot()
        try root.write("f.txt", "content", modified: modified)
        site = try root.site { $0.cacheControl = "no-cache" }
        etag = try #require(site.get("/f.txt")?.header("ETag"))
    }

    private func status(_ headers: StaticRequestHeaders, method: String = "GET") -> Int? {
        site.get("/f.txt", method: method, headers)?.status
    }

    @Test func ifMatchUsesStrongComparison() {
        #expect(status(.init(ifMatch: etag)) == 200)
        #expect(status(.init(ifMatch: "\"other\", " + etag)) == 200)
        #expect(status(.init(ifMatch: "*")) == 200)
        #expect(status(.init(ifMatch: "\"other\"")) == 412)
        #expect(status(.init(ifMatch: "W/" + etag)) == 412)
        #expect(status(.init(ifMatch: "garbage")) == 412)
    }

    @Test func ifMatchTakesPrecedenceOverIfUnmodifiedSince() {
        #expect(status(.init(ifMatch: etag, ifUnmodifiedSince: earlier)) == 200)
        #expect(status(.init(ifMatch: "\"other\"", ifUnmodifiedSince: later)) == 412)
    }

    @Test func ifUnmodifiedSince() {
        #expect(status(.init(ifUnmodifiedSince: earlier)) == 412)
        #expect(status(.init(ifUnmodifiedSince: lastModified)) == 200)
        #expect(status(.init(ifUnmodifiedSince: later)) == 200)
        #expect(status(.init(ifUnmodifiedSince: "not a date")) == 200)
    }

    @Test func ifNoneMatchUsesWeakComparison() {
        #expect(status(.init(ifNoneMatch: etag)) == 304)
        #expect(status(.init(ifNoneMatch: "W/" + etag)) == 304)
        #expect(status(.init(ifNoneMatch: "\"a\", W/\"b\",\(etag)")) == 304)
        #expect(status(.init(ifNoneMatch: "*")) == 304)
        #expect(status(.init(ifNoneMatch: "\"other\"")) == 200)
        #expect(status(.init(ifNoneMatch: etag), method: "HEAD") == 304)
    }

    @Test func preconditionFailureBeatsNotModified() {
        #expect(status(.init(ifMatch: "\"other\"", ifNoneMatch: etag)) == 412)
        #expect(status(.init(ifNoneMatch: etag, ifUnmodifiedSince: earlier)) == 412)
    }

    @Test func ifNoneMatchTakesPrecedenceOverIfModifiedSince() {
        #expect(status(.init(ifNoneMatch: "\"other\"", ifModifiedSince: later)) == 200)
        #expect(status(.init(ifNoneMatch: etag, ifModifiedSince: earlier)) == 304)
    }

    @Test func ifModifiedSince() {
        #expect(status(.init(ifModifiedSince: lastModified)) == 304)
        #expect(status(.init(ifModifiedSince: later)) == 304)
        #expect(status(.init(ifModifiedSince: earlier)) == 200)
        #expect(status(.init(ifModifiedSince: "Sunday, 06-Nov-94 08:49:37 GMT")) == 304)
        #expect(status(.init(ifModifiedSince: "garbage")) == 200)
    }

    @Test func notModifiedCarriesValidatorsButNoContentLength() throws {
        let response = try #require(site.get("/f.txt", .init(ifNoneMatch: etag, range: "bytes=0-1")))
        #expect(response.status == 304)
        #expect(response.header("ETag") == etag)
        #expect(response.header("Last-Modified") == lastModified)
        #expect(response.header("Cache-Control") == "no-cache")
        #expect(response.header("Vary") == "Accept-Encoding")
        #expect(response.header("Content-Length") == nil)
        #expect(response.header("Content-Type") == nil)
        #expect(response.bodyBytes.isEmpty)
    }

    @Test func preconditionFailedHasNoBody() throws {
        let response = try #require(site.get("/f.txt", .init(ifMatch: "\"x\"")))
        #expect(response.status == 412)
        #expect(response.header("Content-Length") == "0")
        #expect(response.header("Cache-Control") == nil)
        #expect(response.bodyBytes.isEmpty)
    }

    @Test func headerFieldsFromAList() {
        let headers = StaticRequestHeaders(fields: [
            ("If-None-Match", "\"a\""), ("if-none-match", "\"b\""), ("Range", "bytes=0-1"), ("Host", "x"),
        ])
        #expect(headers.ifNoneMatch == "\"a\", \"b\"")
        #expect(headers.range == "bytes=0-1")
        #expect(headers.ifMatch == nil)
    }
}
