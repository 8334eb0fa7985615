import Foundation
import Testing

@testable import BerthStatic

@Suite struct FileCacheTests {
    @Test func fileModifiedInPlaceWithSameSizeIsServedFresh() throws {
        let root = try TemporaryRoot()
        try root.write("a.txt", "version-1", modified: 1_700_000_000)
        try root.write("b.bin", bytes: pattern(100_000), modified: 1_700_000_000)
        let site = try root.site()
        #expect(site.get("/a.txt")?.bodyText == "version-1")
        let firstTag = site.get("/a.txt")?.header("ETag")
        #expect(site.get("/b.bin")?.bodyBytes == pattern(100_000))

        try root.overwriteInPlace("a.txt", "version-2")
        try root.setModified("a.txt", seconds: 1_700_000_001)
        #expect(site.get("/a.txt")?.bodyText == "version-2")
        #expect(site.get("/a.txt")?.header("ETag") != firstTag)

        try root.overwriteInPlace("b.bin", "CHANGED")
        try root.setModified("b.bin", seconds: 1_700_000_001)
        #expect(site.get("/b.bin")?.bodyBytes.prefix(7) == ArraySlice("CHANGED".utf8))
    }

    @Test func writerThatRestoresMtimeIsCaughtByCtime() throws {
        let root = try TemporaryRoot()
        try root.write("a.txt", "version-1", modified: 1_700_000_000)
        let site = try root.site()
        #expect(site.get("/a.txt")?.bodyText == "version-1")
        try root.overwriteInPlace("a.txt", "version-2")
        try root.setModified("a.txt", seconds: 1_700_000_000)
        #expect(site.get("/a.txt")?.bodyText == "version-2")
    }

    @Test func fileReplacedByRenameIsServedFresh() throws {
        let root = try TemporaryRoot()
        for (name, old, new) in [("s.txt", Array("old!".utf8), Array("new!".utf8)), ("b.bin", pattern(90_000), pattern(90_001).reversed())] {
            try root.write(name, bytes: old, modified: 1_700_000_000)
            let site = try root.site()
            #expect(site.get("/" + name)?.bodyBytes == old)
            try root.write("tmp", bytes: Array(new), modified: 1_700_000_000)
            #expect(rename(root.path + "/tmp", root.path + "/" + name) == 0)
            let response = try #require(site.get("/" + name))
            #expect(response.bodyBytes == Array(new))
            #expect(response.header("Content-Length") == String(new.count))
        }
    }

    @Test func deletedFileIsNotFound() throws {
        let root = try TemporaryRoot()
        try root.write("a.txt", "a")
        try root.write("b.bin", bytes: pattern(70_000))
        let site = try root.site()
        #expect(site.get("/a.txt")?.status == 200)
        #expect(site.get("/b.bin")?.status == 200)
        try root.remove("a.txt")
        try root.remove("b.bin")
        #expect(site.get("/a.txt") == nil)
        #expect(site.get("/b.bin") == nil)
        #expect(site.cache.count == 0)
    }

    @Test func hotFilesAreReusedAndFileBodiesAreIndependent() throws {
        let root = try TemporaryRoot()
        try root.write("b.bin", bytes: pattern(100_000))
        let site = try root.site()
        let first = try #require(site.get("/b.bin"))
        let second = try #require(site.get("/b.bin"))
        #expect(site.cache.count == 1)
        guard case .file(let one, _, _) = first.body, case .file(let two, _, _) = second.body else {
            Issue.record("expected file bodies")
            return
        }
        // Without an event-loop thread each response owns its descriptor: NIOFileHandle allows
        // one user at a time.
        #expect(one !== two)
        #expect(one.size == 100_000)
        #expect(first.bodyBytes == second.bodyBytes)
    }

    /// Each thread (memo) sends a file from a descriptor of its own, kept with the cached file
    /// across ticks, and closed when the entry and the responses using it are gone.
    @Test func eachThreadSendsAFileFromItsOwnDescriptor() throws {
        let root = try TemporaryRoot()
        try root.write("b.bin", bytes: pattern(100_000))
        weak var firstWeak: OpenFile?
        weak var otherWeak: OpenFile?
        do {
            let site = try root.site()
            let oneThread = StatusMemo()
            let otherThread = StatusMemo()
            func openFile(_ memo: StatusMemo, range: String? = nil) throws -> OpenFile {
                let response = try #require(site.get("/b.bin", StaticRequestHeaders(range: range), memo: memo))
                guard case .file(let file, _, _) = response.body else { throw FileBodyExpected() }
                let whole = pattern(100_000)
                #expect(response.bodyBytes == (range == nil ? whole : Array(whole[10..<20])))
                return file
            }
            let first = try openFile(oneThread)
            oneThread.clear()
            #expect(try openFile(oneThread) === first, "the next tick of the same thread")
            #expect(try openFile(oneThread, range: "bytes=10-19") === first, "a range of it")
            let other = try openFile(otherThread)
            #expect(other !== first)
            #expect(site.get("/b.bin").map { response in
                guard case .file(let own, _, _) = response.body else { return false }
                return own !== first && own !== other
            } == true, "without a thread, a descriptor of its own")
            firstWeak = first
            otherWeak = other
        }
        #expect(firstWeak == nil && otherWeak == nil, "closed with the cache entry")
    }

    private struct FileBodyExpected: Error {}

    @Test func evictsLeastRecentlyUsed() throws {
        let root = try TemporaryRoot()
        let cache = FileCache(capacity: 8, contentBudget: 100)
        var files: [String: CachedFile] = [:]
        let rootDirectory = try RootDirectory(path: root.path, symlinksOutsideRoot: false)
        for index in 0..<12 {
            try root.write("f\(index)", String(repeating: "x", count: 10))
            let file = try #require(CachedFile.open("f\(index)", in: rootDirectory))
            files["f\(index)"] = file
        }
        for index in 0..<8 {
            cache.insert(files["f\(index)"]!, for: "f\(index)")
        }
        #expect(cache.count == 8)
        #expect(cache.lookup("f0", identity: files["f0"]!.identity) != nil)
        cache.insert(files["f8"]!, for: "f8")
        #expect(cache.count <= 8)
        #expect(cache.lookup("f0", identity: files["f0"]!.identity) != nil)
        #expect(cache.lookup("f1", identity: files["f1"]!.identity) == nil)

        // The content budget (100 bytes = 10 files of 10) is enforced as well.
        let small = FileCache(capacity: 100, contentBudget: 50)
        for index in 0..<12 { small.insert(files["f\(index)"]!, for: "f\(index)") }
        #expect(small.count <= 5)
        #expect(small.lookup("f11", identity: files["f11"]!.identity) != nil)
    }

    @Test func concurrentRequestsShareTheCache() async throws {
        let root = try TemporaryRoot()
        try root.write("s.txt", "small")
        try root.write("b.bin", bytes: pattern(80_000))
        let site = try root.site()
        let expected = Array(pattern(80_000)[0..<10])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<200 {
                        #expect(site.get("/s.txt")?.bodyText == "small")
                        #expect(site.get("/b.bin", StaticRequestHeaders(range: "bytes=0-9"))?.bodyBytes == expected)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(site.cache.count == 2)
    }
}
