import Foundation

/// Headless Chromium with its DevTools protocol on a remote-debugging WebSocket, for tests that
/// drive pages step by step (a `--dump-dom` run sees one page once). The port is chosen by
/// Chromium (`--remote-debugging-port=0`) and read from the `DevToolsActivePort` file it writes
/// into its profile; the browser is killed by its PID when the value goes away.
final class HeadlessChromium {
    let process: Process
    let profile: URL
    /// `ws://127.0.0.1:PORT/devtools/browser/ID`: the browser-wide DevTools endpoint.
    let browserURL: String

    struct NotReady: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts Chromium with `hostRules` (`--host-resolver-rules`) and waits, by polling its
    /// profile, until the DevTools endpoint is announced.
    init(hostRules: String, timeout: TimeInterval = 30) throws {
        let profile = try TemporaryDirectory.make()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Tool.path("chromium"))
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
            "--user-data-dir=\(profile.path)", "--host-resolver-rules=\(hostRules)",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--window-size=900,700",
            "about:blank",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        self.process = process
        self.profile = profile

        let announcement = profile.appendingPathComponent("DevToolsActivePort")
        let deadline = Date().addingTimeInterval(timeout)
        var url: String?
        while url == nil && Date() < deadline && process.isRunning {
            // Two lines: the port, then the browser target's path. Written once both are known.
            let lines = ((try? String(contentsOf: announcement, encoding: .utf8)) ?? "").split(separator: "\n")
            if lines.count >= 2, let port = Int(lines[0]) {
                url = "ws://127.0.0.1:\(port)\(lines[1])"
            } else {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        guard let url else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: profile)
            throw NotReady(description: "chromium announced no DevTools endpoint within \(Int(timeout)) s")
        }
        self.browserURL = url
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: profile)
    }
}
