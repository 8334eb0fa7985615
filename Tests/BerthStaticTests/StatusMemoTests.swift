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
}
