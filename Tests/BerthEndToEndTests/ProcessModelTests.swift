import Foundation
import Testing

/// The master and its workers: reloads under load, crashing workers, graceful stop,
/// privilege drop, descriptors, and the admin endpoint. One at a time: several of these put
/// the machine under load on purpose, and their timings would measure each other.
@Suite("Master and workers: reloads, crashes, stopping, privileges, metrics", .serialized)
struct ProcessModelTests {
    // MARK: - Reloads

    @Test func twentyReloadsUnderLoadLoseNoRequest() throws {
        let wrk = try #require(ProcessTools.find("wrk"), "wrk drives the load (.ci/run installs it)")
        let big = [UInt8](repeating: UInt8(ascii: "b"), count: 24 * 1024 * 1024)
        func yaml(extraHosts: Int, broken: Bool = false) -> String {
            var text = """
                listen: [{ address: 127.0.0.1, port: 0 }]
                workers: 2
                threads: 1
                admin: { port: 0 }
                logs: { error: stderr }
                hosts:
                  load.test: { default: true, static: site\(broken ? ", indx: [x]" : "") }

                """
            for i in 0..<extraHosts { text += "  extra-\(i).test: { static: extra }\n" }
            return text
        }
        let berth = try BerthProcess(yaml: yaml(extraHosts: 0), files: ["site/index.html": "load", "extra/index.html": "extra"]) { dir in
            try Data(big).write(to: dir.appendingPathComponent("site/big.bin"))
        }
        let admin = try #require(berth.adminPort)

        let script = berth.directory.appendingPathComponent("pace.lua")
        // Think time between a connection's requests keeps 200 clients from saturating both
        // cores, so the rest of the suite keeps its timings.
        try Data("function delay()\n  return 40\nend\n".utf8).write(to: script)
        let load = try BackgroundTool(wrk, [
            "-t1", "-c200", "-d300s", "--timeout", "10s", "-s", script.path, "-H", "Host: load.test",
            "http://127.0.0.1:\(berth.port)/index.html",
        ])
        defer { load.interrupt() }
        // The clients are all connected before the first reload (the workers report their
        // connections every second).
        #expect(try AdminClient.waitForMetric("berth_http_open_connections", atLeast: 200, port: admin, timeout: 20))

        // A download that is in flight across a reload: the old worker finishes it.
        let download = try RawConnection(port: berth.port)
        try download.send("GET /big.bin HTTP/1.1\r\nHost: load.test\r\n\r\n")
        try download.waitForFirstBytes()

        var generation = 1
        var refused = 0
        for round in 1...20 {
            let extraHosts = round % 4
            let broken = round == 10
            try berth.rewriteConfig(yaml(extraHosts: extraHosts, broken: broken))
            berth.signal(SIGHUP)
            if broken {
                refused += 1
                #expect(berth.waitForLog(timeout: 30) { $0.occurrences(of: "reload refused") == refused })
                continue
            }
            generation += 1
            #expect(berth.waitForLog(timeout: 30) { $0.contains("reloaded config.generation=\(generation) ") }, "reload \(round)")
            if round == 1 {
                let response = try download.readResponse()
                #expect(response.status == 200)
                #expect(response.body.count == big.count, "the download in flight during the reload was cut")
            }
            // The new generation serves the new host table.
            if extraHosts > 0 {
                #expect(try berth.request("/", host: "extra-\(extraHosts - 1).test").text == "extra")
            }
            #expect(try berth.request("/", host: "extra-\(extraHosts).test").text == "load")
        }

        let result = load.interrupt()
        let summary = WrkSummary(result)
        let requests = try #require(summary.requests, "no wrk summary:\n\(result)")
        print("reloads under load: \(requests) requests by 200 keep-alive clients, 19 reloads + 1 refused; "
              + "socket errors \(summary.socketErrors), non-2xx \(summary.non2xx)")
        #expect(requests > 2000)
        #expect(summary.socketErrors == 0, "connect/read/write errors or timeouts during reloads:\n\(result)")
        #expect(summary.non2xx == 0, "\(result)")
        let metrics = try AdminClient.get("/metrics", port: admin).text
        #expect(metrics.contains("berth_config_generation \(generation)\n"))
        #expect(metrics.contains("berth_config_reloads_total{outcome=\"failure\"} 1\n"))
        #expect(metrics.contains("berth_config_last_reload_success 1\n"))
    }

    @Test func invalidReloadKeepsServingAndLogsEveryError() throws {
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                logs: { error: stderr }
                admin: { port: 0 }
                hosts:
                  a.test: { default: true, static: site }
                """,
            files: ["site/index.html": "first"])
        try berth.rewriteConfig("""
            listen: [{ address: 127.0.0.1, port: 0 }]
            logs: { error: stderr }
            admin: { port: 0 }
            limits: { body_bytes: lots }
            hosts:
              a.test: { default: true, static: site, indx: [x] }
              b.test: { static: no-such-folder }
            """)
        berth.signal(SIGHUP)
        #expect(berth.waitForLog(containing: "reload refused") != nil)
        let file = berth.configPath
        for expected in [
            "\(file):4:23: expected a size like 16KiB, found 'lots'",
            "\(file):6:42: unknown key 'indx' in host 'a.test'; did you mean 'index'?",
            "\(file):7:21: static directory",
        ] {
            #expect(berth.errorLog.contains(expected), "missing '\(expected)' in:\n\(berth.errorLog)")
        }
        #expect(berth.errorLog.contains("reload refused: 3 errors"))
        // Still the first generation, untouched.
        #expect(try berth.request("/", host: "a.test").text == "first")
        let admin = try #require(berth.adminPort)
        let metrics = try AdminClient.get("/metrics", port: admin).text
        #expect(metrics.contains("berth_config_generation 1\n"))
        #expect(metrics.contains("berth_config_last_reload_success 0\n"))
        #expect(!berth.errorLog.contains("worker started config.generation=2"))

        // Fixed, the same file reloads.
        try berth.rewriteConfig("""
            listen: [{ address: 127.0.0.1, port: 0 }]
            logs: { error: stderr }
            admin: { port: 0 }
            hosts:
              a.test: { default: true, static: other }
            """)
        try FileManager.default.createDirectory(at: berth.directory.appendingPathComponent("other"), withIntermediateDirectories: true)
        try Data("second".utf8).write(to: berth.directory.appendingPathComponent("other/index.html"))
        berth.signal(SIGHUP)
        #expect(berth.waitForLog(containing: "reloaded config.generation=2 ") != nil)
        #expect(try berth.request("/", host: "a.test").text == "second")
        #expect(berth.stop() == 0)
    }

    @Test func noDescriptorLeaksInTheMasterAcrossFiftyReloads() throws {
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                threads: 1
                logs: { error: stderr }
                hosts:
                  a.test: { default: true, static: site }
                """,
            files: ["site/index.html": "x"])
        func reload(to generation: Int) {
            berth.signal(SIGHUP)
            #expect(berth.waitForLog(timeout: 30) { $0.contains("generation retired config.generation=\(generation - 1)\n") })
        }
        // The first reload settles what the master opens once (its reload thread, say).
        reload(to: 2)
        let before = berth.openDescriptors()
        for generation in 3...52 { reload(to: generation) }
        let after = berth.openDescriptors()
        #expect(after <= before, "master descriptors: \(before) before 50 reloads, \(after) after")
        #expect(try berth.request("/", host: "a.test").text == "x")
        #expect(berth.stop() == 0)
    }

    // MARK: - Crashes

    @Test func crashingWorkersAreReplacedWhileStaticSitesKeepServing() throws {
        let root = repositoryRoot.path
        let data = try TemporaryDirectory.make()
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                workers: 2
                threads: 1
                logs: { error: stderr }
                apps:
                  notes:
                    package: \(root)/sites/notes
                    product: NotesApp
                    settings: { data_dir: \(data.path), crash_route: true }
                hosts:
                  notes.test: { app: notes }
                  static.test: { default: true, static: site }
                """,
            files: ["site/index.html": "static index"], startTimeout: 900)
        berth.extraDirectories.append(data)

        let load = StaticLoad(port: berth.port, host: "static.test", path: "/index.html", expected: "static index", clients: 4)
        load.start()
        var recoveries: [Double] = []
        for _ in 0..<10 {
            let readyBefore = berth.errorLog.occurrences(of: "worker ready")
            let crash = try RawConnection(port: berth.port)
            try crash.send("GET /api/crash HTTP/1.1\r\nHost: notes.test\r\n\r\n")
            // The worker that took the request dies with it: no response, a closed connection.
            #expect(throws: WireError.self) { try crash.readResponse() }
            let crashed = Date()
            #expect(berth.waitForLog(timeout: 10) { $0.occurrences(of: "worker ready") > readyBefore })
            recoveries.append(Date().timeIntervalSince(crashed))
        }
        let outcome = load.stop()
        let worst = recoveries.max() ?? .infinity
        print("crashes: 10 workers killed by requests; back to 2 ready workers within "
              + "\(String(format: "%.3f", worst))s (mean \(String(format: "%.3f", recoveries.reduce(0, +) / Double(recoveries.count)))s); "
              + "static: \(outcome.succeeded) ok, \(outcome.failed) failed, \(outcome.retried) retried on a dropped keep-alive connection")
        #expect(worst <= 1.0, "recovery times: \(recoveries)")
        #expect(outcome.succeeded > 200)
        #expect(Double(outcome.succeeded) / Double(outcome.succeeded + outcome.failed) >= 0.999, "\(outcome)")
        #expect(berth.errorLog.occurrences(of: "worker died; starting a replacement now") == 10)
        #expect(berth.errorLog.contains("worker.exit=\"killed by SIG"))
        #expect(try berth.request("/api/notes", host: "notes.test").status == 200)
    }

    // MARK: - Stopping

    @Test func gracefulStopFinishesASlowDownloadAcrossWorkers() throws {
        let big = [UInt8](repeating: UInt8(ascii: "s"), count: 16 * 1024 * 1024)
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                workers: 2
                threads: 1
                logs: { error: stderr }
                hosts:
                  a.test: { default: true, static: site }
                """,
            files: ["site/index.html": "x"]) { dir in
                try Data(big).write(to: dir.appendingPathComponent("site/big.bin"))
            }
        let pidFile = berth.directory.appendingPathComponent("berth.pid").path
        #expect(PidFileText.read(pidFile) == berth.pid)
        let download = try RawConnection(port: berth.port)
        try download.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n")
        try download.waitForFirstBytes()

        let stop = try BackgroundTool(BerthProcess.binary.path, ["stop", "--config", berth.configPath])
        #expect(berth.waitForLog(containing: "stopping") != nil)
        // A slow reader: nothing read for a while, the server is stuck on full socket buffers.
        Thread.sleep(forTimeInterval: 1)
        let response = try download.readResponse()
        #expect(response.body.count == big.count)
        let result = stop.wait()
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("stopped (PID \(berth.pid))"))
        #expect(berth.stop() == 0)
        #expect(berth.errorLog.contains("notice stopped"))
        #expect(!FileManager.default.fileExists(atPath: pidFile))
    }

    @Test func workersDropToTheConfiguredAccount() throws {
        try #require(geteuid() == 0, "needs root to switch accounts")
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                workers: 2
                threads: 1
                user: nobody
                group: nogroup
                logs: { error: stderr, access: access.log }
                hosts:
                  a.test: { default: true, static: site }
                """,
            files: ["site/index.html": "dropped"])
        #expect(try berth.request("/", host: "a.test").text == "dropped")
        let workers = berth.workerPIDs
        #expect(workers.count == 2)
        for pid in workers {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            #expect(status.contains("\nUid:\t65534\t65534\t65534\t65534\n"), "worker \(pid):\n\(status)")
            #expect(status.contains("\nGid:\t65534\t65534\t65534\t65534\n"), "worker \(pid):\n\(status)")
            #expect(status.contains("\nGroups:\t65534 \n") || status.contains("\nGroups:\t65534\n"), "worker \(pid):\n\(status)")
        }
        // The master keeps root to bind new listeners on reload.
        let master = try String(contentsOfFile: "/proc/\(berth.pid)/status", encoding: .utf8)
        #expect(master.contains("\nUid:\t0\t0\t0\t0\n"))
        // The access log was handed to the workers' account, and they write it.
        var info = stat()
        #expect(stat(berth.directory.appendingPathComponent("access.log").path, &info) == 0)
        #expect(info.st_uid == 65534)
        #expect(berth.stop() == 0)
    }

    @Test func controlCommandsAndSignals() throws {
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                threads: 1
                logs: { error: stderr, access: access.log }
                hosts:
                  a.test: { default: true, static: site }
                """,
            files: ["site/index.html": "x"])
        // `berth reload` finds the master through the pid file next to the config.
        let reload = try runTool(BerthProcess.binary.path, ["reload", "--config", berth.configPath])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(berth.waitForLog(containing: "reloaded config.generation=2 ") != nil)
        // A broken file is refused by the command itself, with its errors; nothing is sent.
        let good = try String(contentsOfFile: berth.configPath, encoding: .utf8)
        try berth.rewriteConfig(good + "\nwrkers: 2\n")
        let refused = try runTool(BerthProcess.binary.path, ["reload", "--config", berth.configPath])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(berth.configPath):6:1: unknown key 'wrkers'"), "\(refused.stderr)")
        #expect(berth.errorLog.occurrences(of: "reloading") == 1)
        try berth.rewriteConfig(good)

        // SIGUSR1 reaches the workers: after log rotation, lines go to a new file.
        _ = try berth.request("/", host: "a.test")
        let log = berth.directory.appendingPathComponent("access.log")
        let rotated = berth.directory.appendingPathComponent("access.log.1")
        #expect(ProcessTools.waitForFile(log) { $0.contains("GET / ") })
        try FileManager.default.moveItem(at: log, to: rotated)
        berth.signal(SIGUSR1)
        #expect(berth.waitForLog(containing: "reopening log files") != nil)
        // The worker reopens right after the master forwards the signal.
        #expect(ProcessTools.waitForFile(log) { _ in true })
        _ = try berth.request("/after", host: "a.test")
        #expect(ProcessTools.waitForFile(log) { $0.contains("GET /after ") })
        #expect(!((try? String(contentsOf: rotated, encoding: .utf8)) ?? "").contains("/after"))

        // SIGQUIT: at once, without a drain.
        let download = try RawConnection(port: berth.port)
        try download.send("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
        _ = try download.readResponse()
        let started = Date()
        berth.signal(SIGQUIT)
        #expect(berth.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(berth.errorLog.contains("stopping now"))
    }

    // MARK: - Admin endpoint

    @Test func metricsAndHealth() throws {
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                threads: 1
                admin: { port: 0 }
                logs: { error: stderr }
                hosts:
                  a.test:
                    default: true
                    paths:
                      /: { static: site }
                      /docs: { static: docs }
                  b.test: { static: site }
                """,
            files: ["site/index.html": "0123456789", "docs/index.html": "docs"])
        let admin = try #require(berth.adminPort)
        let health = try AdminClient.get("/health", port: admin)
        #expect(health.status == 200)
        #expect(health.text == "ready generation=1 workers=1/1\n")

        for i in 0..<5 { _ = try berth.request("/?page=\(i)", host: "a.test") }
        _ = try berth.request("/docs/", host: "a.test")
        _ = try berth.request("/no/such/\(UUID().uuidString)", host: "b.test")
        _ = try berth.request("/", host: "unknown.test")
        // The unknown name is answered by the default host, and counted as that host.
        #expect(try AdminClient.waitForMetric(#"berth_http_requests_total{host="a.test",route="/",status="2xx"}"#, atLeast: 6, port: admin, timeout: 10))
        let text = try AdminClient.get("/metrics", port: admin).text
        #expect(text.contains(#"berth_http_requests_total{host="a.test",route="/docs",status="2xx"} 1"#))
        #expect(text.contains(#"berth_http_requests_total{host="b.test",route="/",status="4xx"} 1"#))
        #expect(text.contains(#"berth_http_response_body_bytes_total{host="a.test",route="/",status="2xx"} 60"#))
        #expect(text.contains(#"berth_http_request_duration_seconds_bucket{host="a.test",route="/",le="+Inf"} 6"#))
        #expect(text.contains(#"berth_http_request_duration_seconds_count{host="a.test",route="/docs"} 1"#))
        #expect(text.contains("# TYPE berth_http_request_duration_seconds histogram"))
        // Labels are configured names and prefixes only, never what a client sent.
        #expect(!text.contains("no/such"))
        #expect(!text.contains("page="))
        #expect(!text.contains("unknown.test"))
        #expect(text.contains("berth_workers{state=\"ready\"} 1\n"))
        #expect(text.contains("berth_worker_restarts_total 0\n"))

        // A killed worker is replaced and counted; the counters survive it.
        let worker = try #require(berth.workerPIDs.first)
        kill(worker, SIGKILL)
        #expect(berth.waitForLog { $0.occurrences(of: "worker ready") == 2 })
        let after = try AdminClient.get("/metrics", port: admin).text
        #expect(after.contains("berth_worker_restarts_total 1\n"))
        #expect(after.contains(#"berth_http_requests_total{host="a.test",route="/",status="2xx"} 6"#))
        #expect(try AdminClient.get("/nope", port: admin).status == 404)
        #expect(berth.stop() == 0)
    }
}

// MARK: - Helpers

extension BerthProcess {
    /// Replaces the config file the way editors and deploy tools should: whole, by rename.
    func rewriteConfig(_ yaml: String) throws {
        let temporary = self.configPath + ".new"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, self.configPath) == 0 else { throw WireError.malformed("rename failed") }
    }

    /// The admin endpoint's port, from "admin endpoint ready admin.endpoint=127.0.0.1:PORT".
    var adminPort: Int? {
        guard let line = self.waitForLog(containing: "admin.endpoint=", timeout: 5),
              let field = line.split(separator: " ").first(where: { $0.hasPrefix("admin.endpoint=") }),
              let colon = field.lastIndex(of: ":")
        else { return nil }
        return Int(field[field.index(after: colon)...])
    }

    /// Workers that reported ready and have not exited since.
    var workerPIDs: [Int32] {
        var ready: [Int32] = []
        for line in self.errorLog.split(separator: "\n") {
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("worker.pid=") }),
                  let pid = Int32(field.dropFirst("worker.pid=".count))
            else { continue }
            if line.contains(" worker ready ") { ready.append(pid) }
            if line.contains(" worker exited ") || line.contains(" worker died") { ready.removeAll { $0 == pid } }
        }
        return ready
    }
}

extension String {
    func occurrences(of needle: String) -> Int {
        self.components(separatedBy: needle).count - 1
    }
}

enum PidFileText {
    static func read(_ path: String) -> Int32? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

enum ProcessTools {
    static func find(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Waits (bounded) for a file's content to satisfy `condition`: the access log is written
    /// by another process, with nothing to signal it.
    static func waitForFile(_ url: URL, timeout: TimeInterval = 5, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let text = try? String(contentsOf: url, encoding: .utf8), condition(text) { return true }
            Thread.sleep(forTimeInterval: 0.01)
        } while Date() < deadline
        return false
    }
}

/// A command running while the test goes on; its output is collected.
final class BackgroundTool: @unchecked Sendable {
    private let process = Process()
    private let output = OutputCollector()
    private var finished: (status: Int32, output: String)?

    init(_ executable: String, _ arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        let pipe = Pipe()
        self.process.standardOutput = pipe
        self.process.standardError = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                output.finish()
            } else {
                output.append(data)
            }
        }
        try self.process.run()
    }

    /// Waits for the command to end (and its output to be read).
    @discardableResult
    func wait() -> (status: Int32, output: String) {
        if let finished { return finished }
        self.process.waitUntilExit()
        // Until the pipe's end was read too.
        _ = self.output.wait(timeout: 5) { _ in false }
        let result = (self.process.terminationStatus, self.output.text)
        self.finished = result
        return result
    }

    /// SIGINT (wrk prints its summary on it), then `wait`; returns the output.
    @discardableResult
    func interrupt() -> String {
        if self.finished == nil && self.process.isRunning { self.process.interrupt() }
        return self.wait().output
    }
}

/// The parts of wrk's summary the tests check.
struct WrkSummary {
    var requests: Int?
    var socketErrors = 0
    var non2xx = 0

    init(_ text: String) {
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            if line.contains(" requests in "), let first = numbers.first { self.requests = first }
            // "Socket errors: connect 0, read 3, write 0, timeout 0" (only printed when not all 0)
            if line.hasPrefix("Socket errors:") { self.socketErrors = numbers.reduce(0, +) }
            if line.hasPrefix("Non-2xx or 3xx responses:") { self.non2xx = numbers.last ?? 0 }
        }
    }
}

/// Talks to the admin endpoint.
enum AdminClient {
    static func get(_ path: String, port: Int) throws -> WireResponse {
        let connection = try RawConnection(port: port)
        try connection.send("GET \(path) HTTP/1.1\r\nHost: admin\r\n\r\n")
        return try connection.readResponse()
    }

    /// Waits until a sample (name with labels) reaches `value`: workers report every second.
    static func waitForMetric(_ sample: String, atLeast value: Double, port: Int, timeout: TimeInterval) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let text = try get("/metrics", port: port).text
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(sample + " ") }),
               let current = Double(line.split(separator: " ").last ?? ""), current >= value {
                return true
            }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        return false
    }
}

/// Keep-alive clients requesting one static file in a loop, counting what succeeds. Like a
/// browser, a client retries an idempotent request once when its reused connection was
/// closed before any byte of the response arrived (RFC 9110 §9.2.2); anything else counts as
/// a failure.
final class StaticLoad: @unchecked Sendable {
    struct Outcome: CustomStringConvertible {
        var succeeded = 0
        var failed = 0
        var retried = 0
        var description: String { "\(succeeded) succeeded, \(failed) failed, \(retried) retried" }
    }

    private let port: Int
    private let request: String
    private let expected: String
    private let clients: Int
    private let lock = NSLock()
    private var outcome = Outcome()
    private var running = true
    private let done = DispatchGroup()

    init(port: Int, host: String, path: String, expected: String, clients: Int) {
        self.port = port
        self.request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\r\n"
        self.expected = expected
        self.clients = clients
    }

    func start() {
        for _ in 0..<self.clients {
            self.done.enter()
            Thread {
                self.run()
                self.done.leave()
            }.start()
        }
    }

    func stop() -> Outcome {
        self.lock.lock()
        self.running = false
        self.lock.unlock()
        self.done.wait()
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.outcome
    }

    private var isRunning: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.running
    }

    private func record(_ update: (inout Outcome) -> Void) {
        self.lock.lock()
        update(&self.outcome)
        self.lock.unlock()
    }

    private func run() {
        var connection: RawConnection?
        var reused = false
        while self.isRunning {
            var attempt = 0
            while true {
                attempt += 1
                do {
                    if connection == nil {
                        connection = try RawConnection(port: self.port, timeout: 10)
                        reused = false
                    }
                    try connection!.send(self.request)
                    let response = try connection!.readResponse()
                    reused = true
                    if response.status == 200 && response.text == self.expected {
                        self.record { $0.succeeded += 1 }
                    } else {
                        self.record { $0.failed += 1 }
                    }
                    if response.header("connection")?.lowercased() == "close" { connection = nil }
                    break
                } catch {
                    // Closed or reset before any response byte: the request may not have been
                    // seen at all, and a GET is safe to send again.
                    var retryable = false
                    switch error {
                    case WireError.closedBeforeResponse(received: 0), WireError.connectFailed: retryable = reused
                    default: break
                    }
                    connection = nil
                    if retryable && attempt == 1 {
                        self.record { $0.retried += 1 }
                        continue
                    }
                    self.record { $0.failed += 1 }
                    break
                }
            }
        }
    }
}
