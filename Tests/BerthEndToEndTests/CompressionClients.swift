import Foundation
import Testing

/// Real decoders and clients for compressed answers: Python's gzip and brotli modules (Debian's
/// python3 with python3-brotli), curl timed line by line, and headless Chromium.
enum CompressionClients {
    /// Debian's interpreter, where `apt-get install python3-brotli` puts the module.
    static let python = "/usr/bin/python3"

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    private static func requirePython() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Missing(description: "\(python) is not installed; install python3 and python3-brotli (apt-get), as .ci/run does")
        }
    }

    /// The content of `data` decoded from `coding` ("gzip" or "br") by Python's own modules.
    static func decode(_ data: Data, coding: String) throws -> Data {
        try requirePython()
        let script = """
            import sys
            data = sys.stdin.buffer.read()
            if sys.argv[1] == "gzip":
                import gzip
                sys.stdout.buffer.write(gzip.decompress(data))
            else:
                try:
                    import brotli
                except ImportError:
                    sys.stderr.write("MISSING python3-brotli")
                    sys.exit(3)
                sys.stdout.buffer.write(brotli.decompress(data))
            """
        let output = try Tool.execute(python, ["-c", script, coding], input: data)
        if output.stderr.contains("MISSING python3-brotli") {
            throw Missing(description: "Python's brotli module is not installed; apt-get install python3-brotli, as .ci/run does")
        }
        guard output.status == 0 else { throw Tool.Failed(command: "python3 decode \(coding)", status: output.status, output: output.stderr) }
        return output.stdout
    }

    /// When each line of a streamed body reached curl (`--compressed -N`: decoded as it
    /// arrives, nothing buffered), in seconds since the request started, with the response's
    /// fields.
    static func timedLines(
        _ berth: BerthProcess, _ path: String, host: String, over transport: Transport
    ) throws -> (lines: [(time: Double, text: String)], headers: String) {
        try requirePython()
        let port = transport.isSecure ? berth.securePort : berth.plainPort
        let scheme = transport.isSecure ? "https" : "http"
        let headerFile = FileManager.default.temporaryDirectory.appendingPathComponent("berth-headers-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: headerFile) }
        let curl = [try Tool.path(Tool.curl), "-s", "-k", "-N", "--compressed", "--max-time", "20",
                    transport == .https2 ? "--http2" : "--http1.1", "--resolve", "\(host):\(port):127.0.0.1",
                    "-D", headerFile, "\(scheme)://\(host):\(port)\(path)"]
        let script = """
            import subprocess, sys, time
            start = time.monotonic()
            child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
            for line in child.stdout:
                print("%.3f %s" % (time.monotonic() - start, line.decode().strip()), flush=True)
            sys.exit(child.wait())
            """
        let output = try Tool.run(python, ["-c", script] + curl, timeout: 30)
        let lines = output.text.split(separator: "\n").compactMap { line -> (Double, String)? in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let time = Double(parts[0]) else { return nil }
            return (time, String(parts[1]))
        }
        let headers = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        return (lines, headers.lowercased())
    }

    /// The DOM headless Chromium built for `url`, with `host` mapped to 127.0.0.1.
    static func chromiumDOM(_ url: String, host: String) throws -> String {
        let profile = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: profile) }
        let output = try Tool.run("chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
            "--user-data-dir=\(profile.path)", "--host-resolver-rules=MAP \(host) 127.0.0.1",
            "--virtual-time-budget=5000", "--dump-dom", url,
        ], timeout: 90)
        return output.text
    }
}
