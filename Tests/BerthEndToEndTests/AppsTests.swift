import Foundation
import Testing

/// The repository's root, for the example apps under `sites/`.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Apps are built by berth itself on first start (then reused), so these tests run one at a
/// time: parallel starts would only queue on the same build.
@Suite("Swift apps loaded as plugins, over real sockets", .serialized)
struct AppsTests {
    static func start(timeout: String = "2s", extraHosts: String = "", secure: Bool = false) throws -> BerthProcess {
        let root = repositoryRoot.path
        let certificate = try TestCertificates.make(["odd.test", "hello.test", "static.test"])
        let tls = secure ? "\n  - { address: 127.0.0.1, port: 0, tls: true }" : ""
        let hostTLS = secure ? "\n    tls: { certificate: \(certificate.certificate), key: \(certificate.key) }" : ""
        // The notes app resolves data_dir against its own folder: give it an absolute one.
        let data = try TemporaryDirectory.make()
        let yaml = """
            listen:
              - { address: 127.0.0.1, port: 0 }\(tls)
            threads: 2
            logs: { error: stderr, access: access.log }
            limits: { body_bytes: 64KiB }
            apps:
              notes:
                package: \(root)/sites/notes
                product: NotesApp
                settings: { data_dir: \(data.path) }
              hello:
                package: \(root)/sites/hello
                product: HelloApp
                settings: { greeting: Ahoy }
              misbehaving:
                package: \(root)/Tests/Fixtures/apps/misbehaving
                product: MisbehavingApp
                timeout: \(timeout)
            hosts:
              notes.test:
                paths:
                  /: { static: \(root)/sites/notes/public, fallback: notes }
              hello.test:\(hostTLS)
                app: hello
              odd.test:\(hostTLS)
                errors: { 504: assets/504.html }
                paths:
                  /: { static: assets, fallback: misbehaving }
                  /api: { app: misbehaving }
              static.test:\(hostTLS)
                default: true
                static: assets
            \(extraHosts)
            """
        let berth = try BerthProcess(yaml: yaml, files: ["assets/index.html": "static index", "assets/504.html": "<p>too slow</p>"],
                                     startTimeout: 900)
        berth.extraDirectories.append(data)
        return berth
    }

    /// Each library a process maps costs resident memory per process, so the split is part of
    /// the design: a worker serving static files and an app that needs no Foundation maps no
    /// Foundation (only FoundationEssentials), and the master carries its own static runtime
    /// rather than the shared Swift libraries.
    @Test func workersMapNoFoundationAndTheMasterNoSharedSwiftRuntime() throws {
        let yaml = """
            listen: [{ address: 127.0.0.1, port: 0 }]
            logs: { error: stderr }
            apps:
              hello: { package: \(repositoryRoot.path)/sites/hello, product: HelloApp }
            hosts:
              localhost:
                default: true
                paths:
                  /hello: { app: hello }
                  /: { static: site }
            """
        let berth = try BerthProcess(yaml: yaml, files: ["site/index.html": "static index"], startTimeout: 900)
        #expect(try berth.request("/").text == "static index")
        #expect(try berth.request("/hello").status == 200)
        let worker = try #require(berth.workerPIDs.first)
        // Read to the end: /proc files report size 0, and a read sized by that stops early.
        func maps(_ pid: Int32) throws -> String {
            let file = try #require(FileHandle(forReadingAtPath: "/proc/\(pid)/maps"))
            defer { try? file.close() }
            return String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        }
        let workerMaps = try maps(worker)
        #expect(workerMaps.contains("/libswiftCore.so"), "apps need the shared runtime in workers")
        #expect(workerMaps.contains("/libFoundationEssentials.so"))
        for library in ["/libFoundation.so", "/lib_FoundationICU.so", "/libFoundationInternationalization.so"] {
            #expect(!workerMaps.contains(library), "a worker maps \(library)")
        }
        let masterMaps = try maps(berth.pid)
        #expect(masterMaps.contains("/berth-master"))
        for library in ["/libswiftCore.so", "/libFoundation.so", "/libBerthApp.so"] {
            #expect(!masterMaps.contains(library), "the master maps \(library)")
        }
    }

    /// The notes app imports Foundation, which a worker then loads on one of its own threads.
    /// Such a worker once drained and then never exited, outliving its master.
    @Test func workersWithAnAppThatLoadsFoundationEndWithTheMaster() throws {
        for signal in [SIGTERM, SIGKILL] {
            let berth = try Self.start()
            #expect(try berth.request("/api/notes", host: "notes.test").status == 200)
            let worker = try #require(berth.workerPIDs.first)
            berth.signal(signal)
            _ = berth.stop()
            let deadline = Date().addingTimeInterval(15)
            while kill(worker, 0) == 0 && Date() < deadline { usleep(20_000) }
            #expect(kill(worker, 0) != 0, "worker \(worker) still runs after its master got signal \(signal)")
            if kill(worker, 0) == 0 { kill(worker, SIGKILL) }
        }
    }

    @Test func staticFrontEndAndJSONRoutesOfTheNotesApp() throws {
        let berth = try Self.start()
        let page = try berth.request("/", host: "notes.test")
        #expect(page.status == 200)
        #expect(page.text.contains("<script"))
        #expect(try berth.request("/app.js", host: "notes.test").header("content-type")?.hasPrefix("text/javascript") == true)

        let created = try berth.request(
            "/api/notes", method: "POST", host: "notes.test", headers: ["Content-Type": "application/json"],
            body: #"{"text":"roast on friday"}"#)
        #expect(created.status == 201)
        let note = try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any]
        let id = try #require(note?["id"] as? Int)
        let listed = try berth.request("/api/notes", host: "notes.test")
        #expect(listed.status == 200)
        #expect(listed.header("content-type")?.hasPrefix("application/json") == true)
        #expect(listed.text.contains("roast on friday"))
        // The app's middleware ran in the worker: every API answer, the router's own included.
        #expect(listed.header("cache-control") == "no-store")
        #expect(try berth.request("/api/notes/\(id)", host: "notes.test").text.contains("roast on friday"))
        #expect(try berth.request("/api/notes/\(id)", method: "DELETE", host: "notes.test").status == 204)
        #expect(try berth.request("/api/notes/\(id)", host: "notes.test").status == 404)
        // What the app does not route is its 404; a wrong method its 405 with Allow.
        #expect(try berth.request("/api/unknown", host: "notes.test").status == 404)
        let wrongMethod = try berth.request("/api/notes", method: "PUT", host: "notes.test", body: "{}")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("allow")?.contains("GET") == true)
        #expect(wrongMethod.header("cache-control") == "no-store")
        // The note was written to the app's data folder, atomically, and survives.
        let stored = try String(contentsOf: berth.extraDirectories[0].appendingPathComponent("notes.json"), encoding: .utf8)
        #expect(stored.contains("["))
    }

    @Test func twoAppsAtOnceOnTheirOwnHosts() throws {
        let berth = try Self.start()
        let hello = try berth.request("/hello", host: "hello.test")
        #expect(hello.status == 200)
        #expect(hello.text == "Hello, world!")
        #expect(hello.body.count == 13)
        #expect(try berth.request("/hello/Grace", host: "hello.test").text == "Ahoy, Grace!")
        #expect(try berth.request("/api/notes", host: "notes.test").status == 200)
        let head = try berth.request("/hello", method: "HEAD", host: "hello.test")
        #expect(head.header("content-length") == "13")
        #expect(head.body.isEmpty)
    }

    @Test func appErrorsBecome500WithALogLine() throws {
        let berth = try Self.start()
        let response = try berth.request("/api/throw", host: "odd.test")
        #expect(response.status == 500)
        #expect(!response.text.contains("on fire"), "internals leaked to the client")
        #expect(berth.waitForLog(containing: "app failed") != nil)
        let line = try #require(berth.waitForLog(containing: "on fire"))
        #expect(line.contains("app.name=misbehaving"))
        #expect(line.contains("http.host=odd.test"))
        // The server is fine afterwards.
        #expect(try berth.request("/", host: "static.test").text == "static index")
    }

    @Test func headerInjectionNeverReachesTheWire() throws {
        let berth = try Self.start()
        let response = try berth.request("/api/inject", host: "odd.test")
        #expect(response.status == 500)
        #expect(response.header("set-cookie") == nil)
        #expect(response.header("x-evil") == nil)
    }

    /// Content-Length, Transfer-Encoding and Connection are the server's to set: an app's values
    /// for them, in any case, are dropped, and the response is framed by its real length.
    @Test func framingFieldsAreTheServers() throws {
        let berth = try Self.start()
        let connection = try RawConnection(port: berth.port)
        for _ in 0..<2 {
            try connection.send("GET /api/framing HTTP/1.1\r\nHost: odd.test\r\n\r\n")
            let response = try connection.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "framed")
            #expect(response.headers("content-length") == ["6"])
            #expect(response.header("transfer-encoding") == nil)
            #expect(response.header("connection") == nil)
            #expect(response.header("x-connection") == "kept")
        }
    }

    @Test func slowAppIsCutOffWithoutStallingOthers() throws {
        let berth = try Self.start(timeout: "1s")
        let slow = try RawConnection(port: berth.port, timeout: 10)
        try slow.send("GET /api/slow HTTP/1.1\r\nHost: odd.test\r\n\r\n")
        // While the app sleeps, static files and other apps answer at once.
        let started = Date()
        #expect(try berth.request("/", host: "static.test").status == 200)
        #expect(try berth.request("/hello", host: "hello.test").status == 200)
        #expect(Date().timeIntervalSince(started) < 0.9)
        let response = try slow.readResponse()
        #expect(response.status == 504)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    /// A request pipelined behind one the app answers later waits, unread, while reading from
    /// the socket pauses; it is answered after it, in order, and reading resumes.
    @Test func pipelinedRequestWaitsForAnAppThatAnswersLater() throws {
        let berth = try Self.start(timeout: "1s")
        let connection = try RawConnection(port: berth.port, timeout: 10)
        try connection.send("GET /api/slow HTTP/1.1\r\nHost: odd.test\r\n\r\n" + "GET /host?next HTTP/1.1\r\nHost: odd.test\r\n\r\n")
        #expect(try connection.readResponse().status == 504)
        let next = try connection.readResponse()
        #expect(next.status == 200 && next.text == "odd.test /host?next", "\(next)")
        try connection.send("GET /host?again HTTP/1.1\r\nHost: odd.test\r\n\r\n")
        #expect(try connection.readResponse().text == "odd.test /host?again")
    }

    /// A quick handler answers on the thread that read its request. One that computes for
    /// milliseconds does so a few times, then runs on the shared pool, behind the event loops
    /// (nice 10): its own answers keep coming, the quick routes stay on the event loop at the
    /// loops' priority, and the log says which route moved.
    @Test func cpuBoundRouteMovesOffTheEventLoopWhileQuickRoutesStay() throws {
        let berth = try Self.start()
        #expect(try berth.request("/api/thread", host: "odd.test").text.hasPrefix("NIO-ELT-"))
        var threads: [String] = []
        var niceness: [String] = []
        for _ in 0..<8 {
            let response = try berth.request("/api/spin?ms=30", host: "odd.test")
            #expect(response.status == 200)
            threads.append(String(response.text.split(separator: " ").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
            niceness.append(response.header("x-nice") ?? "")
        }
        #expect(threads.first?.hasPrefix("NIO-ELT-") == true, "\(threads)")
        #expect(niceness.first == "0", "\(niceness)")
        // Three long steps make the route heavy; every answer after that comes from the pool.
        #expect(threads.suffix(5).allSatisfy { !$0.hasPrefix("NIO-ELT-") }, "\(threads)")
        #expect(niceness.suffix(5).allSatisfy { $0 == "10" }, "\(niceness) \(threads)")
        let line = try #require(berth.waitForLog(containing: "app route held an event loop"))
        #expect(line.contains("http.route=\"GET /api/spin\""), "\(line)")
        #expect(line.contains("app.name=misbehaving"))
        #expect(try berth.request("/api/thread", host: "odd.test").text.hasPrefix("NIO-ELT-"))
    }

    /// A client that goes away while its app is still working has the app's task cancelled, so
    /// nothing keeps computing for nobody (the connection keeps reading while it waits).
    @Test func clientThatLeavesCancelsTheApp() throws {
        let berth = try Self.start(timeout: "20s")
        do {
            let waiting = try RawConnection(port: berth.port)
            try waiting.send("GET /api/wait HTTP/1.1\r\nHost: odd.test\r\n\r\n")
            #expect(berth.waitForLog(containing: "app is waiting") != nil)
        }
        #expect(berth.waitForLog(containing: "wait cancelled", timeout: 5) != nil, "\(berth.errorLog)")
    }

    @Test func requestBodiesStreamWithTheLimitEnforced() throws {
        let berth = try Self.start()
        let echo = try berth.request("/api/echo", method: "POST", host: "odd.test", body: #"{"text":"hi"}"#)
        #expect(echo.status == 201)
        #expect(echo.text.contains("\"hi\""))
        let bad = try berth.request("/api/echo", method: "POST", host: "odd.test", body: "not json")
        #expect(bad.status == 400)

        let connection = try RawConnection(port: berth.port)
        try connection.send("POST /api/count HTTP/1.1\r\nHost: odd.test\r\nTransfer-Encoding: chunked\r\n\r\n")
        try connection.send("400\r\n" + String(repeating: "a", count: 1024) + "\r\n")
        try connection.send("400\r\n" + String(repeating: "b", count: 1024) + "\r\n0\r\n\r\n")
        #expect(try connection.readResponse().text == "2048")

        // Declared too large: refused before the app sees a byte.
        #expect(try berth.raw("POST /api/count HTTP/1.1\r\nHost: odd.test\r\nContent-Length: 100000\r\n\r\n").status == 413)
        // Chunked past the limit: 413 and a closed connection.
        let big = try RawConnection(port: berth.port)
        try big.send("POST /api/count HTTP/1.1\r\nHost: odd.test\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = "8000\r\n" + String(repeating: "z", count: 0x8000) + "\r\n"
        for _ in 0..<3 { try? big.send(chunk) }
        #expect(try big.readResponse().status == 413)
        #expect(big.isClosedByPeer())

        let continued = try RawConnection(port: berth.port)
        try continued.send("POST /api/count HTTP/1.1\r\nHost: odd.test\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        #expect(try continued.readResponse().status == 100)
        try continued.send("abc")
        #expect(try continued.readResponse().text == "3")
    }

    @Test func streamedAndFileResponses() throws {
        let berth = try Self.start()
        let stream = try berth.request("/api/stream", host: "odd.test")
        #expect(stream.status == 200)
        #expect(stream.header("transfer-encoding") == "chunked")
        #expect(stream.text == (0..<5).map { "chunk \($0)\n" }.joined())
        let file = try berth.request("/api/file", host: "odd.test")
        #expect(file.status == 200)
        #expect(file.text.contains("MisbehavingApp"))
        #expect(file.header("etag") != nil)
        let ranged = try berth.request("/api/file", host: "odd.test", headers: ["Range": "bytes=0-1"])
        #expect(ranged.status == 206)
        #expect(ranged.text == "//")
    }

    /// Apps answer the same over every protocol: their status, fields and bodies, streamed ones
    /// included; an app's files and an app's own validators get conditional requests and
    /// ranges; its errors get the host's pages; the access log has each exchange.
    @Test(arguments: Transport.allCases)
    func appsBehaveTheSame(over transport: Transport) throws {
        let berth = try Self.start(timeout: "1s", secure: true)
        let hello = try berth.curl("/hello/Ada", host: "hello.test", over: transport)
        #expect(hello.status == 200 && hello.text.contains("Ahoy, Ada"), "\(hello)")
        #expect(hello.version == (transport == .https2 ? "2" : "1.1"))

        let stream = try berth.curl("/api/stream", host: "odd.test", over: transport)
        #expect(stream.status == 200 && stream.text == (0..<5).map { "chunk \($0)\n" }.joined(), "\(stream)")

        let echoed = try berth.curl("/api/count", host: "odd.test", over: transport, method: "POST", body: Data(repeating: 0x61, count: 5000))
        #expect(echoed.text == "5000")
        let tooLarge = try berth.curl("/api/count", host: "odd.test", over: transport, method: "POST", body: Data(repeating: 0x61, count: 70_000))
        #expect(tooLarge.status == 413, "\(tooLarge)")

        // The app's file: validators, 304, ranges, 412.
        let file = try berth.curl("/api/file", host: "odd.test", over: transport)
        let etag = try #require(file.header("etag"))
        #expect(try berth.curl("/api/file", host: "odd.test", over: transport, headers: ["If-None-Match: \(etag)"]).status == 304)
        let fileRange = try berth.curl("/api/file", host: "odd.test", over: transport, headers: ["Range: bytes=0-1"])
        #expect(fileRange.status == 206 && fileRange.text == "//" && fileRange.header("content-range")?.hasPrefix("bytes 0-1/") == true)
        #expect(try berth.curl("/api/file", host: "odd.test", over: transport, headers: ["If-Match: \"other\""]).status == 412)

        // The app's own validators on a body in memory.
        let tagged = try berth.curl("/api/tagged", host: "odd.test", over: transport)
        #expect(tagged.status == 200 && tagged.header("etag") == "\"v1\"")
        let notModified = try berth.curl("/api/tagged", host: "odd.test", over: transport, headers: ["If-None-Match: \"v1\""])
        #expect(notModified.status == 304 && notModified.body.isEmpty && notModified.header("etag") == "\"v1\"")
        let since = try berth.curl("/api/tagged", host: "odd.test", over: transport, headers: ["If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"])
        #expect(since.status == 304)
        let taggedRange = try berth.curl("/api/tagged", host: "odd.test", over: transport, headers: ["Range: bytes=10-14"])
        #expect(taggedRange.status == 206 && taggedRange.text == "abcde" && taggedRange.header("content-range") == "bytes 10-14/20")
        let stale = try berth.curl("/api/tagged", host: "odd.test", over: transport, headers: ["Range: bytes=10-14", "If-Range: \"v0\""])
        #expect(stale.status == 200 && stale.text == "0123456789abcdefghij")

        // Errors: a thrown error is a 500; a slow app gets the host's page for 504.
        #expect(try berth.curl("/api/throw", host: "odd.test", over: transport).status == 500)
        let slow = try berth.curl("/api/slow", host: "odd.test", over: transport)
        #expect(slow.status == 504 && slow.text == "<p>too slow</p>", "\(slow)")
        #expect(try berth.curl("/api/inject", host: "odd.test", over: transport).status == 500)

        let expected = ["\"GET /hello/Ada \(transport.logVersion)\" 200 ", "\"GET /api/stream \(transport.logVersion)\" 200 40 ",
                        "\"GET /api/slow \(transport.logVersion)\" 504 "]
        let log = berth.accessLog(containing: expected)
        for line in expected { #expect(log.contains(line), "\(log)") }
    }

    @Test func fallbackGetsWhatNoFileMatches() throws {
        let berth = try Self.start()
        #expect(try berth.request("/", host: "odd.test").text == "static index")
        let routed = try berth.request("/host?x=1", host: "odd.test")
        #expect(routed.text == "odd.test /host?x=1")
        // Other methods go to the app even where a file exists.
        #expect(try berth.request("/index.html", method: "POST", host: "odd.test", body: "x").status == 404)
    }
}
