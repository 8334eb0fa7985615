import Foundation

// Tools for `ProcessModelTests`: config rewrites, log parsing, a load generator, wrk and the
// admin endpoint.

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
///
/// Started with `posix_spawn` and an empty signal mask: the test runner blocks SIGINT, and a
/// child started by `Process` would inherit that and never see the SIGINT that makes wrk
/// print its summary.
final class BackgroundTool: @unchecked Sendable {
    private let pid: pid_t
    private let output = OutputCollector()
    private var finished: (status: Int32, output: String)?

    init(_ executable: String, _ arguments: [String]) throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw WireError.connectFailed(errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        // Nothing else of the test process (other servers' output pipes) may leak into it.
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(ends[1])
        guard result == 0 else {
            close(ends[0])
            throw WireError.connectFailed(result)
        }
        self.pid = pid
        let output = self.output
        let readEnd = ends[0]
        Thread {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                output.append(Data(buffer[0..<count]))
            }
            close(readEnd)
            output.finish()
        }.start()
    }

    /// Waits for the command to end (and its output to be read).
    @discardableResult
    func wait() -> (status: Int32, output: String) {
        if let finished { return finished }
        var status: Int32 = 0
        while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
        _ = self.output.wait(timeout: 10) { _ in false }
        let result = ((status >> 8) & 0xFF, self.output.text)
        self.finished = result
        return result
    }

    /// SIGINT (wrk prints its summary on it), then `wait`; returns the output.
    @discardableResult
    func interrupt() -> String {
        if self.finished == nil { kill(self.pid, SIGINT) }
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
        /// Why the failed ones failed (the first few).
        var failures: [String] = []
        var description: String { "\(succeeded) succeeded, \(failed) failed, \(retried) retried; failures: \(failures)" }
    }

    private let port: Int
    private let request: String
    private let expected: String
    private let clients: Int
    private let lock = NSLock()
    private var outcome = Outcome()
    private var running = true
    private let done = DispatchGroup()
    private let warm = DispatchGroup()

    init(port: Int, host: String, path: String, expected: String, clients: Int) {
        self.port = port
        self.request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\n\r\n"
        self.expected = expected
        self.clients = clients
    }

    func start() {
        for _ in 0..<self.clients {
            self.done.enter()
            self.warm.enter()
            Thread {
                self.run()
                self.done.leave()
            }.start()
        }
    }

    /// Waits until every client has its connection up and a first answer.
    func waitUntilWarm(timeout: TimeInterval = 10) -> Bool {
        self.warm.wait(timeout: .now() + timeout) == .success
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
        var warming = true
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
                        if warming {
                            warming = false
                            self.warm.leave()
                        }
                    } else {
                        self.record {
                            $0.failed += 1
                            if $0.failures.count < 10 { $0.failures.append("status \(response.status)") }
                        }
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
                    self.record {
                        $0.failed += 1
                        if $0.failures.count < 10 { $0.failures.append("\(error), attempt \(attempt), reused \(reused)") }
                    }
                    break
                }
            }
        }
    }
}
