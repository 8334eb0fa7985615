import BerthProcess
import Foundation
import Testing

/// inotify on a temporary folder: entries by name, trees with folders made later, and a set
/// of targets replaced.
@Suite("File watcher")
struct FileWatcherTests {
    /// Changes reported so far, for a test to wait on.
    final class Seen: @unchecked Sendable {
        let condition = NSCondition()
        var changes: [(String, String)] = []

        func add(_ meaning: String, _ path: String) {
            self.condition.lock()
            self.changes.append((meaning, path))
            self.condition.broadcast()
            self.condition.unlock()
        }

        /// Waits until a change of `meaning` to `path` was reported.
        func wait(for meaning: String, _ path: String, timeout: TimeInterval = 10) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            self.condition.lock()
            defer { self.condition.unlock() }
            while !self.changes.contains(where: { $0 == (meaning, path) }) {
                if !self.condition.wait(until: deadline) { return false }
            }
            return true
        }

        var paths: [String] {
            self.condition.lock()
            defer { self.condition.unlock() }
            return self.changes.map(\.1)
        }
    }

    @Test func entriesAndTreesAreReportedAlsoInFoldersMadeLater() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("berth-watch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/Sources/App", withIntermediateDirectories: true)
        try "a: 1".write(toFile: folder + "/berth.yaml", atomically: false, encoding: .utf8)
        try "x".write(toFile: folder + "/other.txt", atomically: false, encoding: .utf8)

        let seen = Seen()
        let watcher = try FileWatcher<String> { meaning, path in seen.add(meaning, path) }
        let problems = watcher.watch([
            .entry(path: folder + "/berth.yaml", meaning: "config"),
            .tree(path: folder + "/Sources", meaning: "sources"),
            .entry(path: folder + "/missing/file", meaning: "missing"),
        ])
        #expect(problems.count == 1 && problems[0].hasPrefix(folder + "/missing:"), "\(problems)")

        // Saved in place, and saved by rename.
        try "a: 2".write(toFile: folder + "/berth.yaml", atomically: false, encoding: .utf8)
        #expect(seen.wait(for: "config", folder + "/berth.yaml"))
        try "a: 3".write(toFile: folder + "/berth.yaml", atomically: true, encoding: .utf8)
        #expect(seen.wait(for: "config", folder + "/berth.yaml"))

        try "struct A {}".write(toFile: folder + "/Sources/App/A.swift", atomically: false, encoding: .utf8)
        #expect(seen.wait(for: "sources", folder + "/Sources/App/A.swift"))
        try FileManager.default.createDirectory(atPath: folder + "/Sources/App/Models", withIntermediateDirectories: false)
        #expect(seen.wait(for: "sources", folder + "/Sources/App/Models"))
        try "struct B {}".write(toFile: folder + "/Sources/App/Models/B.swift", atomically: false, encoding: .utf8)
        #expect(seen.wait(for: "sources", folder + "/Sources/App/Models/B.swift"), "a folder made later is watched too")

        // Replaced targets: the sources are no longer of interest, the config file still is.
        watcher.watch([.entry(path: folder + "/berth.yaml", meaning: "config2")])
        try "struct C {}".write(toFile: folder + "/Sources/App/C.swift", atomically: false, encoding: .utf8)
        try "x".write(toFile: folder + "/other.txt", atomically: false, encoding: .utf8)
        try "a: 4".write(toFile: folder + "/berth.yaml", atomically: false, encoding: .utf8)
        #expect(seen.wait(for: "config2", folder + "/berth.yaml"))
        // Events arrive in order on one descriptor: had C.swift or other.txt been reported,
        // it would be there before the config change.
        #expect(!seen.paths.contains { $0.hasSuffix("C.swift") || $0.hasSuffix("other.txt") })
    }
}
