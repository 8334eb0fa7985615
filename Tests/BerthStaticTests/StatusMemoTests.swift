import Foundation
import Testing

@testable import BerthStatic

/// Requests of one event-loop tick share one `fstatat` per path; the next tick looks again.
@Suite struct StatusMemoTests {
    @Test func oneTickSeesOneLookAndTheNextSeesTheChange() throws {
        let root = try TemporaryRoot()
        try root.write("a.txt", "version-1", modified: 1_700_000_000)
        let site = try root.site()
        let memo = StatusMemo()
        #expect(!memo.needsClearing())

        #expect(site.get("/a.txt", memo: memo)?.bodyText == "version-1")
        #expect(memo.needsClearing())
        #expect(!memo.needsClearing(), "clearing is asked for once per filling")

        // Changed within the tick: answered as it was when the tick looked.
        try root.overwriteInPlace("a.txt", "version-2")
        try root.setModified("a.txt", seconds: 1_700_000_001)
        #expect(site.get("/a.txt", memo: memo)?.bodyText == "version-1")
        #expect(site.get("/a.txt")?.bodyText == "version-2", "without a memo every request looks")

        memo.clear()
        #expect(site.get("/a.txt", memo: memo)?.bodyText == "version-2")
        #expect(memo.needsClearing())
    }

    @Test func aMissingFileIsRememberedAsMissingAndSitesAreKeptApart() throws {
        let first = try TemporaryRoot()
        let second = try TemporaryRoot()
        try second.write("only-here.txt", "second")
        let firstSite = try first.site()
        let secondSite = try second.site()
        let memo = StatusMemo()

        #expect(firstSite.get("/only-here.txt", memo: memo) == nil)
        #expect(secondSite.get("/only-here.txt", memo: memo)?.bodyText == "second")
        try first.write("only-here.txt", "first")
        #expect(firstSite.get("/only-here.txt", memo: memo) == nil)
        memo.clear()
        #expect(firstSite.get("/only-here.txt", memo: memo)?.bodyText == "first")
    }

    /// A file's full answer is kept for the tick, for the same request only: the method, the
    /// Accept-Encoding and the conditions all change what a request gets.
    @Test func aTickKeepsAFilesAnswerForTheSameRequestOnly() throws {
        let root = try TemporaryRoot()
        try root.write("app.js", "version-1", modified: 1_700_000_000)
        try root.write("app.js.gz", "GZ-1", modified: 1_700_000_000)
        let site = try root.site()
        let memo = StatusMemo()

        let first = try #require(site.get("/app.js", memo: memo))
        #expect(first.bodyText == "version-1")
        let entityTag = try #require(first.header("etag"))
        #expect(site.get("/app.js", StaticRequestHeaders(acceptEncoding: "gzip"), memo: memo)?.bodyText == "GZ-1")
        #expect(site.get("/app.js", method: "HEAD", memo: memo)?.bodyText == "")

        // Changed within the tick: the same requests get the tick's answers.
        try root.overwriteInPlace("app.js", "version-2")
        try root.overwriteInPlace("app.js.gz", "GZ-2")
        try root.setModified("app.js", seconds: 1_700_000_001)
        #expect(site.get("/app.js", memo: memo)?.bodyText == "version-1")
        #expect(site.get("/app.js", StaticRequestHeaders(acceptEncoding: "gzip"), memo: memo)?.bodyText == "GZ-1")
        #expect(site.get("/app.js", method: "HEAD", memo: memo)?.header("content-length") == "9")
        // A conditional request is evaluated, not answered from the memo.
        #expect(site.get("/app.js", StaticRequestHeaders(ifNoneMatch: entityTag), memo: memo)?.status == 304)
        #expect(site.get("/app.js", StaticRequestHeaders(range: "bytes=0-2"), memo: memo)?.status == 206)

        memo.clear()
        #expect(site.get("/app.js", memo: memo)?.bodyText == "version-2")
        #expect(site.get("/app.js", StaticRequestHeaders(acceptEncoding: "gzip"), memo: memo)?.bodyText == "GZ-2")
    }
}
