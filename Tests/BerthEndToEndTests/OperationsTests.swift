import Foundation
import Testing

@Suite("Running berth: CLI, logs, descriptors, stopping")
struct OperationsTests {
    @Test func checkAcceptsAValidFileAndRefusesABrokenOne() throws {
        let directory = try TemporaryDirectory.make()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("site"), withIntermediateDirectories: true)
        let good = directory.appendingPathComponent("good.yaml")
        try Data(
            """
            listen: [{ port: 0 }]
            hosts:
              a.test: { static: site, default: true }
            """.utf8
        ).write(to: good)
        let ok = try runTool(BerthProcess.binary.path, ["check", "--config", good.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("configuration is valid"))

        let bad = directory.appendingPathComponent("bad.yaml")
        try Data(
            """
            listen: [{ port: 0 }]
            hosts:
              a.test:
                static: missing-dir
                indx: [x]
            """.utf8
        ).write(to: bad)
        let refused = try runTool(BerthProcess.binary.path, ["check", "--config", bad.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(bad.path):5:5: unknown key 'indx'"), "\(refused.stderr)")
        #expect(refused.stderr.contains("did you mean 'index'?"))
        #expect(refused.stderr.contains("\(bad.path):4:13:"), "\(refused.stderr)")
        #expect(refused.stderr.contains("missing-dir"))

        // `run` refuses the same file and starts nothing.
        let run = try runTool(BerthProcess.binary.path, ["run", "--config", bad.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("unknown key 'indx'"))
    }

    @Test func versionAndHelp() throws {
        let version = try runTool(BerthProcess.binary.path, ["version"])
        #expect(version.stdout.hasPrefix("berth "))
        for command in ["run", "check", "version"] {
            let help = try runTool(BerthProcess.binary.path, [command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE"))
        }
    }

    @Test func combinedAccessLog() throws {
        let berth = try SiteFixture.start()
        _ = try berth.request("/digits.txt", host: "alpha.test", headers: ["User-Agent": "probe/1.0", "Referer": "http://r.test/"])
        _ = try berth.request("/missing\"quote", host: "beta.test")
        // Input that never became a request is logged too: refused by the parser (505) and by
        // the connection guard before a line end arrived (414).
        #expect(try berth.raw("GET / HTTP/2.0\r\nHost: beta.test\r\n\r\n").status == 505)
        #expect(try berth.raw("GET /" + String(repeating: "a", count: 100_000)).status == 414)
        let log = try waitForFile(berth.directory.appendingPathComponent("access.log"), lines: 4)
        let lines = log.split(separator: "\n")
        // Connections run on several threads: lines are complete but not ordered.
        #expect(lines.allSatisfy { $0.hasPrefix("127.0.0.1 - - [") })
        #expect(lines.contains { $0.contains("\"GET /digits.txt HTTP/1.1\" 200 1000 \"http://r.test/\" \"probe/1.0\" alpha.test") })
        #expect(lines.contains { $0.contains("\"GET /missing\\\"quote HTTP/1.1\" 404 ") })
        #expect(lines.contains { $0.contains("] \"-\" 505 ") && $0.hasSuffix("\"-\" \"-\" -") })
        #expect(lines.contains { $0.contains("] \"-\" 414 ") })
    }

    @Test func jsonAccessLog() throws {
        let berth = try SiteFixture.start(format: "json")
        _ = try berth.request("/", host: "beta.test")
        let log = try waitForFile(berth.directory.appendingPathComponent("access.log"), lines: 1)
        let object = try JSONSerialization.jsonObject(with: Data(log.split(separator: "\n")[0].utf8)) as? [String: Any]
        #expect(object?["status"] as? Int == 200)
        #expect(object?["host"] as? String == "beta.test")
        #expect(object?["uri"] as? String == "/")
        // Measured by the exchange on its loop's clock: a loopback request takes milliseconds.
        let duration = try #require(object?["duration_ms"] as? Double, "\(log)")
        #expect(duration >= 0 && duration < 10_000)
    }

    @Test func noDescriptorLeaksAndCleanStop() throws {
        let berth = try SiteFixture.start()
        // Warm up: the file cache and lazily created descriptors settle first.
        for path in ["/", "/digits.txt", "/css/style.css", "/nope"] { _ = try berth.request(path, host: "alpha.test") }
        let before = berth.openDescriptors()
        for round in 0..<50 {
            let connection = try RawConnection(port: berth.port)
            try connection.send("GET /digits.txt HTTP/1.1\r\nHost: alpha.test\r\n\r\nGET /x HTTP/1.1\r\nHost: alpha.test\r\n\r\n")
            _ = try connection.readResponse()
            _ = try connection.readResponse()
            if round % 2 == 0 { try? connection.send("GET / HTTP/1.1\r\nHost:") }  // abandoned mid-head
        }
        _ = try berth.raw("GARBAGE\r\n\r\n")
        // Closed connections are released by the server asynchronously; wait for the count.
        var after = berth.openDescriptors()
        let deadline = Date().addingTimeInterval(10)
        while after > before && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            after = berth.openDescriptors()
        }
        #expect(after <= before, "descriptors before \(before), after \(after)")
        #expect(berth.stop() == 0)
        // The process has exited; its last lines may still be on their way through the pipe.
        #expect(berth.waitForLog(containing: "stopped", timeout: 5) != nil, "\(berth.errorLog)")
    }

    @Test func gracefulStopFinishesAnInFlightResponse() throws {
        let big = String(repeating: "x", count: 8 * 1024 * 1024)
        let berth = try BerthProcess(
            yaml: """
                listen: [{ address: 127.0.0.1, port: 0 }]
                logs: { error: stderr }
                hosts:
                  a.test: { static: site, default: true }
                """,
            files: ["site/big.bin": big])
        let connection = try RawConnection(port: berth.port)
        try connection.send("GET /big.bin HTTP/1.1\r\nHost: a.test\r\n\r\n")
        // The response has started, and the body is far larger than the socket buffers:
        // the server is mid-body when it is told to stop.
        try connection.waitForFirstBytes()
        berth.signal(SIGTERM)
        _ = berth.waitForLog(containing: "stopping")
        let response = try connection.readResponse()
        #expect(response.body.count == big.utf8.count)
        #expect(berth.stop() == 0)
    }

    func waitForFile(_ url: URL, lines: Int) throws -> String {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let text = try? String(contentsOf: url, encoding: .utf8), text.split(separator: "\n").count >= lines {
                return text
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }
}
