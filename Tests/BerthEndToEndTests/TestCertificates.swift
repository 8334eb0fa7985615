import Foundation
import Testing

/// A self-signed certificate and its key, made with the openssl command line.
struct TestCertificate: Sendable {
    var certificate: String
    var key: String
}

/// Certificates made at test time, once per distinct request and run (P-256 keys are quick to
/// make, but a suite asks for the same few many times).
enum TestCertificates {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [String: TestCertificate] = [:]
    private static let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("berth-certs-\(getpid())-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// `names` are subjectAltName entries: "a.test", "*.a.test", "IP:127.0.0.1". The first
    /// DNS name is also the subject's common name, which `openssl s_client` prints.
    /// `days` below zero makes a certificate that has already expired.
    static func make(_ names: [String], days: Int = 30) throws -> TestCertificate {
        let key = names.joined(separator: ",") + "/\(days)"
        lock.lock()
        defer { lock.unlock() }
        if let known = made[key] { return known }
        let stem = directory.appendingPathComponent("cert\(made.count)").path
        let san = names.map { $0.hasPrefix("IP:") ? $0 : "DNS:" + $0 }.joined(separator: ",")
        let commonName = names.first { !$0.hasPrefix("IP:") } ?? "berth-test"
        try Tool.run(Tool.openssl, [
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=\(commonName)", "-addext", "subjectAltName=\(san)",
            "-keyout", stem + ".key", "-out", stem + ".csr",
        ])
        // `x509 -req` takes a negative validity, which `req -x509` does not.
        try Tool.run(Tool.openssl, [
            "x509", "-req", "-in", stem + ".csr", "-signkey", stem + ".key", "-days", String(days),
            "-copy_extensions", "copy", "-out", stem + ".pem",
        ])
        let certificate = TestCertificate(certificate: stem + ".pem", key: stem + ".key")
        made[key] = certificate
        return certificate
    }
}

/// The real clients the HTTPS tests drive. A missing one fails the test with the package to
/// install: these tests exist to show that real clients work, so they never skip silently.
enum Tool {
    static let openssl = "openssl"
    static let curl = "curl"
    static let nghttp = "nghttp"
    static let h2load = "h2load"

    static let packages = ["openssl": "openssl", "curl": "curl", "nghttp": "nghttp2-client", "h2load": "nghttp2-client"]

    struct Missing: Error, CustomStringConvertible {
        var tool: String
        var description: String {
            "'\(self.tool)' is not installed; install it (apt-get install \(Tool.packages[self.tool] ?? self.tool)), as .ci/run does"
        }
    }

    struct Failed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "\(self.command) exited with \(self.status):\n\(self.output)" }
    }

    static func path(_ tool: String) throws -> String {
        if tool.hasPrefix("/") { return tool }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Missing(tool: tool)
    }

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
        var text: String { String(decoding: self.stdout, as: UTF8.self) }
    }

    /// Runs a tool to completion with `input` on its standard input; fails on a non-zero exit.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], input: Data = Data(), timeout: TimeInterval = 60) throws -> Output {
        let result = try self.execute(tool, arguments, input: input, timeout: timeout)
        guard result.status == 0 else {
            throw Failed(command: ([tool] + arguments).joined(separator: " "), status: result.status,
                         output: result.text + result.stderr)
        }
        return result
    }

    /// Runs a tool to completion and returns whatever it did. `keepInputOpen` keeps standard
    /// input open for that long after writing `input` (a client that must not see end of file
    /// before the server has answered).
    static func execute(
        _ tool: String, _ arguments: [String], input: Data = Data(), keepInputOpen: TimeInterval = 0,
        timeout: TimeInterval = 60
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try self.path(tool))
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let out = OutputCollector(), err = OutputCollector()
        try process.run()
        // Blocking reads on their own threads: they end when the child (the only holder of
        // the pipes' write ends) exits.
        for (pipe, collector) in [(stdout, out), (stderr, err)] {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread {
                collector.append(handle.readDataToEndOfFile())
                collector.finish()
            }
        }
        if !input.isEmpty { try? stdin.fileHandleForWriting.write(contentsOf: input) }
        let deadline = Date().addingTimeInterval(timeout)
        if keepInputOpen > 0 {
            let until = Date().addingTimeInterval(keepInputOpen)
            while process.isRunning && Date() < until { usleep(20_000) }
        }
        try? stdin.fileHandleForWriting.close()
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            // SIGKILL: a child may inherit a blocked SIGTERM from the test runner.
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        out.waitForEnd(timeout: 10)
        err.waitForEnd(timeout: 10)
        return Output(status: process.terminationStatus, stdout: out.bytes, stderr: String(decoding: err.bytes, as: UTF8.self))
    }
}

