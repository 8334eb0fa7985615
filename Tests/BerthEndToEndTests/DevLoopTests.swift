import Foundation
import Testing

/// `berth dev` against the real binary: the files are edited the way a developer does, and the
/// server is polled until it answers with the change.
@Suite("berth dev: watching, rebuilding and reloading")
struct DevLoopTests {
    /// Asks `answer` until it holds or `timeout` passes (a reload takes a moment, a build
    /// much longer); true when it held.
    func eventually(timeout: TimeInterval, _ answer: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if answer() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return answer()
    }

    static func yaml(revision: String, paths: String = "static: site") -> String {
        """
        listen:
          - { address: 127.0.0.1, port: 0 }
        threads: 1
        hosts:
          localhost:
            default: true
            headers: { X-Revision: "\(revision)" }
            \(paths)
        """
    }

    @Test func editsOfTheFileAreServedAndBrokenOnesReportedWhileTheOldConfigurationServes() throws {
        let berth = try BerthProcess(yaml: Self.yaml(revision: "1"), files: ["site/index.html": "first site"], command: "dev")
        defer { berth.stop() }
        #expect(berth.waitForLog(containing: "watching for changes") != nil)
        #expect(try berth.request("/").header("x-revision") == "1")

        // Saved in place, as most editors do.
        try Data(Self.yaml(revision: "2").utf8).write(to: URL(fileURLWithPath: berth.configPath))
        #expect(eventually(timeout: 60) { (try? berth.request("/").header("x-revision")) == "2" })
        #expect(berth.errorLog.contains("files changed"))

        // A misspelled key on line 8, column 5: refused with its place, and revision 2 serves on.
        try berth.rewriteConfig(Self.yaml(revision: "3", paths: "statc: site"))
        #expect(berth.waitForLog(containing: "reload refused", timeout: 60) != nil)
        #expect(berth.errorLog.contains("berth.yaml:8:5: unknown key 'statc'"), "\(berth.errorLog)")
        let during = try berth.request("/")
        #expect(during.status == 200 && during.header("x-revision") == "2" && during.text == "first site")

        // Saved whole by rename, the way other editors do.
        try berth.rewriteConfig(Self.yaml(revision: "4"))
        #expect(eventually(timeout: 60) { (try? berth.request("/").header("x-revision")) == "4" })

        // A burst of saves is one reload; the save after it, another.
        let before = berth.errorLog.occurrences(of: " files changed ")
        for revision in 5...9 { try berth.rewriteConfig(Self.yaml(revision: "\(revision)")) }
        #expect(eventually(timeout: 60) { (try? berth.request("/").header("x-revision")) == "9" })
        try berth.rewriteConfig(Self.yaml(revision: "10"))
        #expect(eventually(timeout: 60) { (try? berth.request("/").header("x-revision")) == "10" })
        #expect(berth.errorLog.occurrences(of: " files changed ") == before + 2, "\(berth.errorLog)")
    }

    /// With nothing it can serve at start, `berth dev` prints why and waits for the next save.
    @Test func aFileThatCannotBeServedAtStartIsWaitedOnUntilSaved() throws {
        let berth = try BerthProcess(
            yaml: Self.yaml(revision: "1", paths: "statc: site"), files: ["site/index.html": "served at last"], command: "dev",
            readyLine: "waiting for the file to be saved again")
        defer { berth.stop() }
        #expect(berth.errorLog.contains("berth.yaml:8:5: unknown key 'statc'"), "\(berth.errorLog)")
        try berth.rewriteConfig(Self.yaml(revision: "1"))
        let line = try #require(berth.waitForLog(containing: " listening ", timeout: 60), "\(berth.errorLog)")
        let port = try #require(BerthProcess.ports(in: line, schemes: ["http://"]).first)
        let connection = try RawConnection(port: port)
        try connection.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        #expect(try connection.readResponse().text == "served at last")
    }

    /// Workers hold a static root open; a root replaced as a whole (a site generator's clean
    /// build) is opened anew by a reload.
    @Test func aStaticRootReplacedAsAWholeIsServedFromItsNewDirectory() throws {
        let berth = try BerthProcess(yaml: Self.yaml(revision: "1"), files: ["site/index.html": "first build"], command: "dev")
        defer { berth.stop() }
        #expect(berth.waitForLog(containing: "watching for changes") != nil)
        #expect(try berth.request("/").text == "first build")
        let site = berth.directory.appendingPathComponent("site")
        try FileManager.default.moveItem(at: site, to: berth.directory.appendingPathComponent("site-old"))
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: false)
        try Data("second build".utf8).write(to: site.appendingPathComponent("index.html"))
        #expect(eventually(timeout: 60) { (try? berth.request("/").text) == "second build" })
    }

    /// The example app's package (manifest, app source, its tests), the app's source passed
    /// through `source`, for a file map.
    static func appFiles(source: (String) -> String) throws -> [String: String] {
        func read(_ path: String) throws -> String {
            try String(contentsOf: repositoryRoot.appendingPathComponent("sites/hello/" + path), encoding: .utf8)
        }
        // Both local packages (BerthApp, BerthAppTesting) sit under ../../Sources.
        let manifest = try read("Package.swift")
            .replacingOccurrences(of: "../../Sources/", with: repositoryRoot.appendingPathComponent("Sources").path + "/")
        let tests = "Tests/HelloAppTests/HelloAppTests.swift"
        return [
            "app/Package.swift": manifest, "app/Sources/HelloApp/HelloApp.swift": source(try read("Sources/HelloApp/HelloApp.swift")),
            "app/" + tests: try read(tests), "site/index.html": "static page",
        ]
    }

    static let appYAML = """
        listen:
          - { address: 127.0.0.1, port: 0 }
        threads: 1
        apps:
          hello: { package: app, product: HelloApp }
        hosts:
          localhost:
            default: true
            paths:
              /hello: { app: hello }
              /: { static: site }
        """

    /// The 503 page is `berth dev`'s alone: `berth run` refuses to start on the same files.
    @Test func anAppBrokenAtStartAnswers503UnderDevAndKeepsRunFromStarting() throws {
        let files = try Self.appFiles { $0.replacingOccurrences(of: "let world = Response.text(\"Hello, world!\")", with: "let world = undefinedWorld") }
        #expect(files.values.contains { $0.contains("undefinedWorld") })
        let berth = try BerthProcess(yaml: Self.appYAML, files: files, command: "dev", startTimeout: 900)
        defer { berth.stop() }
        let refusal = try berth.request("/hello")
        #expect(refusal.status == 503)
        #expect(refusal.text.contains("error: cannot find 'undefinedWorld' in scope"), "\(refusal.text)")
        #expect(try berth.request("/").text == "static page")

        let folder = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (path, contents) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
        try Data(Self.appYAML.utf8).write(to: folder.appendingPathComponent("berth.yaml"))
        // Bounded: a `run` that started serving would otherwise never return.
        let run = try runTool("/usr/bin/timeout", ["600", BerthProcess.binary.path, "run", "--config", folder.appendingPathComponent("berth.yaml").path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("swift build failed") && run.stderr.contains("undefinedWorld"), "\(run.stderr)")
    }

    /// The example app, copied: its source edited, broken, and fixed. Four builds in all (the
    /// first compiles BerthApp too), so the bounds are generous.
    @Test func anEditedAppIsRebuiltAndABrokenBuildAnswers503WithTheCompilersMessage() throws {
        let source = "app/Sources/HelloApp/HelloApp.swift"
        let files = try Self.appFiles { $0 }
        let original = try #require(files[source])
        let greeting = #""\(greeting), \(request.parameters["name"] ?? "")!""#
        #expect(original.contains(greeting))
        let berth = try BerthProcess(yaml: Self.appYAML, files: files, command: "dev", startTimeout: 900)
        defer { berth.stop() }
        let file = berth.directory.appendingPathComponent(source)
        #expect(try berth.request("/hello/Ada").text == "Hello, Ada!")

        try Data(original.replacingOccurrences(of: greeting, with: #""Howdy, \(request.parameters["name"] ?? "")!""#).utf8).write(to: file)
        #expect(eventually(timeout: 600) { (try? berth.request("/hello/Ada").text) == "Howdy, Ada!" }, "\(berth.errorLog)")

        let broken = original.replacingOccurrences(of: greeting, with: "undefinedGreeting")
        try Data(broken.utf8).write(to: file)
        #expect(eventually(timeout: 600) { (try? berth.request("/hello/Ada").status) == 503 }, "\(berth.errorLog)")
        let refusal = try berth.request("/hello/Ada")
        #expect(refusal.header("content-type") == "text/plain; charset=utf-8")
        #expect(refusal.text.contains("app 'hello'"))
        // The compiler names the line of the broken greeting.
        let line = try #require(broken.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("undefinedGreeting") }) + 1
        #expect(refusal.text.contains("HelloApp.swift:\(line):"), "\(refusal.text)")
        #expect(refusal.text.contains("error: cannot find 'undefinedGreeting' in scope"), "\(refusal.text)")
        #expect(berth.errorLog.contains("error: cannot find 'undefinedGreeting' in scope"), "the terminal shows it too")
        // Everything else keeps serving.
        #expect(try berth.request("/").text == "static page")

        try Data(original.replacingOccurrences(of: greeting, with: #""Welcome, \(request.parameters["name"] ?? "")!""#).utf8).write(to: file)
        #expect(eventually(timeout: 600) { (try? berth.request("/hello/Ada").text) == "Welcome, Ada!" }, "\(berth.errorLog)")
        #expect(try berth.request("/hello/Ada").status == 200)
    }
}
