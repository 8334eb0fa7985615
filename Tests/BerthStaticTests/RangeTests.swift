import Testing

@testable import BerthStatic

@Suite struct RangeTests {
    let root: TemporaryRoot
    let site: StaticSite
    let small = Array("0123456789abcdefghij".utf8)  // 20 bytes, served from memory
    let big = pattern(200_000)  // served with sendfile

    init() throws {
        root = try TemporaryRoot()
        try root.write("s.txt", bytes: small, modified: 784_111_777)
        try root.write("b.bin", bytes: big, modified: 784_111_777)
        site = try root.site()
    }

    private func get(_ path: String, _ range: String, ifRange: String? = nil) throws -> StaticResponse {
        try #require(site.get(path, StaticRequestHeaders(ifRange: ifRange, range: range)))
    }

    @Test func singleRange() throws {
        let response = try get("/s.txt", "bytes=2-5")
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes 2-5/20")
        #expect(response.header("Content-Length") == "4")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.bodyText == "2345")

        let bigResponse = try get("/b.bin", "bytes=100000-100099")
        #expect(bigResponse.status == 206)
        #expect(bigResponse.isFileBody)
        #expect(bigResponse.bodyBytes == Array(big[100_000...100_099]))
        #expect(bigResponse.header("Content-Range") == "bytes 100000-100099/200000")
    }

    @Test func suffixOpenAndClampedRanges() throws {
        #expect(try get("/s.txt", "bytes=-3").bodyText == "hij")
        #expect(try get("/s.txt", "bytes=-3").header("Content-Range") == "bytes 17-19/20")
        #expect(try get("/s.txt", "bytes=-500").header("Content-Range") == "bytes 0-19/20")
        #expect(try get("/s.txt", "bytes=15-").bodyText == "fghij")
        #expect(try get("/s.txt", "bytes=15-99999999999999999999999").header("Content-Range") == "bytes 15-19/20")
        #expect(try get("/b.bin", "bytes=-500").bodyBytes == Array(big.suffix(500)))
        #expect(try get("/b.bin", "bytes=199990-").bodyBytes == Array(big.suffix(10)))
    }

    @Test func multipleRangesExactBody() throws {
        let response = try get("/s.txt", "bytes=0-1, 5-6,-2")
        #expect(response.status == 206)
        let contentType = try #require(response.header("Content-Type"))
        #expect(contentType.hasPrefix("multipart/byteranges; boundary="))
        let boundary = String(contentType.dropFirst("multipart/byteranges; boundary=".count))
        #expect(boundary.count >= 16)
        let expected =
            "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/20\r\n\r\n01"
            + "\r\n--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 5-6/20\r\n\r\n56"
            + "\r\n--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 18-19/20\r\n\r\nij"
            + "\r\n--\(boundary)--\r\n"
        #expect(response.bodyText == expected)
        #expect(response.header("Content-Length") == String(expected.utf8.count))
        #expect(response.header("Content-Range") == nil)
    }

    @Test func multipleRangesOfABigFile() throws {
        let response = try get("/b.bin", "bytes=10-19,150000-150009")
        #expect(response.status == 206)
        guard case .parts(let parts) = response.body else {
            Issue.record("expected parts")
            return
        }
        #expect(parts.count == 5)
        let boundary = String(response.header("Content-Type")!.split(separator: "=").last!)
        var expected = Array("--\(boundary)\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-19/200000\r\n\r\n".utf8)
        expected += big[10...19]
        expected += Array("\r\n--\(boundary)\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 150000-150009/200000\r\n\r\n".utf8)
        expected += big[150_000...150_009]
        expected += Array("\r\n--\(boundary)--\r\n".utf8)
        #expect(response.bodyBytes == expected)
        #expect(response.header("Content-Length") == String(expected.count))
    }

    @Test func boundariesAreRandom() throws {
        let first = try get("/s.txt", "bytes=0-0,2-2").header("Content-Type")
        let second = try get("/s.txt", "bytes=0-0,2-2").header("Content-Type")
        #expect(first != second)
    }

    @Test func overlappingAndAdjacentRangesAreCoalesced() throws {
        let overlapping = try get("/s.txt", "bytes=5-9,0-6")
        #expect(overlapping.status == 206)
        #expect(overlapping.header("Content-Range") == "bytes 0-9/20")
        #expect(overlapping.bodyText == "0123456789")
        #expect(try get("/s.txt", "bytes=0-1,2-3,4-4").header("Content-Range") == "bytes 0-4/20")
        #expect(try get("/s.txt", "bytes=-5,10-").header("Content-Range") == "bytes 10-19/20")
        #expect(ByteRanges.coalesce([.init(first: 8, last: 9), .init(first: 0, last: 1), .init(first: 1, last: 3)])
            == [.init(first: 0, last: 3), .init(first: 8, last: 9)])
    }

    @Test func tooManyRangesSendTheWholeFile() throws {
        let seventeen = (0..<17).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")
        let response = try get("/b.bin", "bytes=" + seventeen)
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == "200000")
        let sixteen = (0..<16).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")
        #expect(try get("/b.bin", "bytes=" + sixteen).status == 206)
        // Many ranges that coalesce into few are fine.
        let adjacent = (0..<100).map { "\($0)-\($0)" }.joined(separator: ",")
        #expect(try get("/b.bin", "bytes=" + adjacent).header("Content-Range") == "bytes 0-99/200000")
    }

    @Test func unsatisfiable() throws {
        for range in ["bytes=20-", "bytes=20-30", "bytes=-0", "bytes=100-200,300-"] {
            let response = try get("/s.txt", range)
            #expect(response.status == 416, "\(range)")
            #expect(response.header("Content-Range") == "bytes */20")
            #expect(response.header("Content-Length") == "0")
            #expect(response.bodyBytes.isEmpty)
        }
        // One satisfiable range is enough.
        #expect(try get("/s.txt", "bytes=100-200,0-0").status == 206)
        try root.write("empty.txt", "")
        #expect(try get("/empty.txt", "bytes=0-").status == 416)
    }

    @Test func invalidRangeHeadersAreIgnored() throws {
        for range in ["bytes=5-2", "bytes=abc", "bytes=", "items=0-5", "bytes 0-5", "bytes=1-2-3", "bytes=--5", "bytes=0-1,x"] {
            let response = try get("/s.txt", range)
            #expect(response.status == 200, "\(range)")
            #expect(response.bodyText == "0123456789abcdefghij")
        }
        #expect(try get("/s.txt", "BYTES= 1-2 , ").bodyText == "12")
    }

    @Test func rangeOnlyForGet() throws {
        let head = try #require(site.get("/s.txt", method: "HEAD", StaticRequestHeaders(range: "bytes=0-1")))
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "20")
    }

    @Test func ifRange() throws {
        let etag = try #require(site.get("/s.txt")?.header("ETag"))
        let lastModified = "Sun, 06 Nov 1994 08:49:37 GMT"
        #expect(try get("/s.txt", "bytes=0-1", ifRange: etag).status == 206)
        #expect(try get("/s.txt", "bytes=0-1", ifRange: "\"stale\"").status == 200)
        #expect(try get("/s.txt", "bytes=0-1", ifRange: "W/" + etag).status == 200)
        #expect(try get("/s.txt", "bytes=0-1", ifRange: lastModified).status == 206)
        #expect(try get("/s.txt", "bytes=0-1", ifRange: "Mon, 07 Nov 1994 08:49:37 GMT").status == 200)
        #expect(try get("/s.txt", "bytes=0-1", ifRange: "garbage").status == 200)
        // A file modified just now has no strong date validator (RFC 9110 §8.8.2.2).
        try root.write("fresh.txt", "fresh")
        let fresh = try #require(site.get("/fresh.txt")?.header("Last-Modified"))
        #expect(try get("/fresh.txt", "bytes=0-1", ifRange: fresh).status == 200)
    }
}
