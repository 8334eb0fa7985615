import Foundation
import Testing

/// A real `berth` process started on a temporary virtual-host file, bound to port 0.
/// Readiness is the "listening" line of its error log, never a sleep.
final class BerthProcess: @unchecked Sendable {
    let process: Process
    let directory: URL
    let configPath: String
    /// Every listener's port, in the order of the file.
    let ports: [Int]
    var port: Int { self.ports[0] }
    /// The ports of the `tls` listeners, in the order of the file.
    let securePorts: [Int]
    private let stderrPipe: Pipe
    /// More temporary folders the test made for this server; removed with it.
    var extraDirectories: [URL] = []
    private let output = OutputCollector()

    static var binary: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.deletingLastPathComponent().appendingPathComponent("berth")
    }

    /// Writes `yaml` into a fresh temporary folder (with the given extra files) and starts
    /// `berth run` on it.
    /// `startTimeout` covers building apps on a first start. `arguments` go after
    /// `COMMAND --config FILE` (`run`, or `dev`). The server counts as started when its log
    /// has `readyLine`; the ports are those of that line.
    init(
        yaml: String, files: [String: String] = [:], command: String = "run", arguments: [String] = ["--drain-timeout", "5"],
        readyLine: String = " listening ", startTimeout: TimeInterval = 60,
        environment: [String: String] = [:], prepare: (URL) throws -> Void = { _ in }
    ) throws {
        let directory = try TemporaryDirectory.make()
        for (path, contents) in files {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
        try prepare(directory)
        let configURL = directory.appendingPathComponent("berth.yaml")
        try Data(yaml.utf8).write(to: configURL)
        self.directory = directory
        self.configPath = configURL.path

        let process = Process()
        process.executableURL = Self.binary
        process.arguments = [command, "--config", configURL.path] + arguments
        process.currentDirectoryURL = directory
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let stderrPipe = Pipe()
        process.standardError = stderrPipe
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        self.process = process
        self.stderrPipe = stderrPipe
        let output = self.output
        stderrPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                output.finish()
            } else {
                output.append(data)
            }
        }
        try process.run()
        guard let line = output.waitForLine(containing: readyLine, timeout: startTimeout, alive: { process.isRunning }) else {
            process.terminate()
            process.waitUntilExit()
            throw BerthProcessError.didNotStart(output.text)
        }
        self.ports = Self.ports(in: line, schemes: ["http://", "https://"])
        self.securePorts = Self.ports(in: line, schemes: ["https://"])
    }

    /// The ports of "server.listeners=http://127.0.0.1:PORT https://[::1]:PORT".
    static func ports(in line: String, schemes: [String]) -> [Int] {
        var ports: [Int] = []
        for word in line.split(whereSeparator: { $0 == " " || $0 == "\"" }) where schemes.contains(where: { word.contains($0) }) {
            if let colon = word.lastIndex(of: ":"), let port = Int(word[word.index(after: colon)...]) {
                ports.append(port)
            }
        }
        return ports
    }

    var pid: Int32 { self.process.processIdentifier }

    /// Everything the server wrote to its error log so far.
    var errorLog: String { self.output.text }

    func waitForLog(containing text: String, timeout: TimeInterval = 10) -> String? {
        self.output.waitForLine(containing: text, timeout: timeout)
    }

    /// Waits until the log so far satisfies `condition` (checked on every new output); false
    /// on timeout.
    func waitForLog(timeout: TimeInterval = 10, until condition: (String) -> Bool) -> Bool {
        self.output.wait(timeout: timeout, until: condition)
    }

    /// Open file descriptors of the server process.
    func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(self.pid)/fd").count) ?? -1
    }

    func signal(_ signo: Int32) {
        kill(self.pid, signo)
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        if self.process.isRunning {
            kill(self.pid, SIGTERM)
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    deinit {
        if self.process.isRunning {
            kill(self.pid, SIGKILL)
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
        for directory in self.extraDirectories { try? FileManager.default.removeItem(at: directory) }
    }
}

enum BerthProcessError: Error, CustomStringConvertible {
    case didNotStart(String)
    var description: String {
        switch self {
        case .didNotStart(let log): return "berth did not start; its output:\n\(log)"
        }
    }
}

/// Collects a child's output and lets a test wait for a line in it.
final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var data = Data()
    private var finished = false

    func append(_ chunk: Data) {
        self.condition.lock()
        self.data.append(chunk)
        self.condition.broadcast()
        self.condition.unlock()
    }

    func finish() {
        self.condition.lock()
        self.finished = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    var text: String { String(decoding: self.bytes, as: UTF8.self) }

    /// The raw bytes so far (HTTP/2 frames are not text).
    var bytes: Data {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.data
    }

    /// Waits until the child closed its end (or the timeout passed).
    func waitForEnd(timeout: TimeInterval) {
        let deadline = Date().addingTimeInterval(timeout)
        self.condition.lock()
        defer { self.condition.unlock() }
        while !self.finished && self.condition.wait(until: deadline) {}
    }

    func wait(timeout: TimeInterval, until condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        self.condition.lock()
        defer { self.condition.unlock() }
        while true {
            if condition(String(decoding: self.data, as: UTF8.self)) { return true }
            if self.finished || !self.condition.wait(until: deadline) { return false }
        }
    }

    /// The first line holding `needle`; nil once the timeout passed, the output ended, or
    /// `alive` says the process is gone (a child it started may keep the pipe open after it,
    /// which would otherwise cost the whole timeout: minutes, when apps are built first).
    func waitForLine(containing needle: String, timeout: TimeInterval, alive: () -> Bool = { true }) -> String? {
        var deadline = Date().addingTimeInterval(timeout)
        var gone = false
        self.condition.lock()
        defer { self.condition.unlock() }
        while true {
            let text = String(decoding: self.data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.contains(needle) }) {
                return String(line)
            }
            if self.finished || Date() >= deadline { return nil }
            if !gone && !alive() {
                // Its last words may still be in the pipe: a moment for them, for the report.
                gone = true
                deadline = min(deadline, Date().addingTimeInterval(2))
            }
            _ = self.condition.wait(until: min(deadline, Date().addingTimeInterval(1)))
        }
    }
}

enum TemporaryDirectory {
    static func make() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension BerthProcess {
    /// The access log once it holds every one of `lines` (each line is written just after its
    /// response leaves, so a client can be a moment ahead of it), or as it is after `timeout`.
    func accessLog(containing lines: [String], file: String = "access.log", timeout: TimeInterval = 5) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let log = (try? String(contentsOf: self.directory.appendingPathComponent(file), encoding: .utf8)) ?? ""
            if lines.allSatisfy(log.contains) || Date() > deadline { return log }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}
