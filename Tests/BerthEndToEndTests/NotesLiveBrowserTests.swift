import Foundation
import Testing

/// The notes example in a real browser: two pages follow the app's live feed over WebSockets.
@Suite("The notes site live in headless Chromium")
struct NotesLiveBrowserTests {
    /// What the DevTools script saw in the second page (Tests/Fixtures/browser/notes_live.py).
    struct Report: Decodable {
        let first_live_after: Double?
        let second_live_after: Double?
        let added_after: Double?
        let list_after_add: String?
        let deleted_after: Double?
        let list_after_delete: String?
        let same_document: Bool?
    }

    /// Page A adds a note through its form, then deletes it with its button; page B, open in
    /// another browser context, shows each change without reloading. With two workers the
    /// pages and the API requests may land on different processes: the change then reaches B
    /// through its worker's look at the shared notes file, within about a second.
    @Test(.timeLimit(.minutes(20)), arguments: [1, 2])
    func aNoteAddedInOnePageAppearsAndLeavesInAnother(workers: Int) throws {
        let root = repositoryRoot.path
        let data = try TemporaryDirectory.make()
        let yaml = """
            listen: [{ address: 127.0.0.1, port: 0 }]
            workers: \(workers)
            threads: 2
            logs: { error: stderr, access: access.log }
            apps:
              notes:
                package: \(root)/sites/notes
                product: NotesApp
                settings: { data_dir: \(data.path) }
            hosts:
              notes.localhost:
                default: true
                paths:
                  /: { static: \(root)/sites/notes/public, fallback: notes }
            """
        let berth = try BerthProcess(yaml: yaml, startTimeout: 900)
        berth.extraDirectories.append(data)
        let output = try TemporaryDirectory.make()
        print("notes browser test output (workers: \(workers)): \(output.path)")
        let screenshot = output.appendingPathComponent("second-page.png")

        let browser = try HeadlessChromium(hostRules: "MAP notes.localhost 127.0.0.1")
        let text = "live from page one \(UUID().uuidString.prefix(8))"
        let script = repositoryRoot.appendingPathComponent("Tests/Fixtures/browser/notes_live.py").path
        let run = try Tool.execute(CompressionClients.python, [
            script, browser.browserURL, "http://notes.localhost:\(berth.port)/", screenshot.path, text,
        ], timeout: 120)
        try #require(run.status == 0, "notes_live.py exited with \(run.status):\n\(run.stderr)\n\(run.text)")
        let report = try JSONDecoder().decode(Report.self, from: run.stdout)
        print("notes browser test (workers: \(workers)): shown after \(report.added_after ?? -1) s, gone after \(report.deleted_after ?? -1) s")

        #expect(report.first_live_after != nil && report.second_live_after != nil, "the pages never connected their feeds")
        #expect(report.added_after != nil, "the second page never showed the note")
        #expect(report.list_after_add?.contains("<p>\(text)</p>") == true, "\(report.list_after_add ?? "-")")
        #expect(report.deleted_after != nil, "the second page kept the deleted note")
        #expect(report.list_after_delete?.contains(text) == false, "\(report.list_after_delete ?? "-")")
        #expect(report.same_document == true, "the second page was reloaded")
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "the screenshot is a PNG")

        // The feed went through the server: one upgrade per page on the live route.
        let log = berth.accessLog(containing: ["GET /api/notes/live HTTP/1.1\" 101"])
        #expect(log.components(separatedBy: "GET /api/notes/live HTTP/1.1\" 101").count - 1 >= 2, "\(log)")
        withExtendedLifetime(browser) {}
    }
}
