import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Pebble (the ACME test server) and pebble-challtestsrv as its DNS, answering 127.0.0.1 for
/// every name, started on free loopback ports for one test and stopped after it: the ACME
/// client's tests and the end-to-end tests of managed hosts share it. Validation is real:
/// Pebble connects to `httpPort` (HTTP-01) and `tlsPort` (TLS-ALPN-01), where the test's
/// responders or berth's listeners must be. A missing Pebble fails the test, never skips it.
public final class PebbleServer: @unchecked Sendable {
    public let folder: URL
    public let httpPort: Int
    public let tlsPort: Int
    public let directoryURL: String
    /// Trust for Pebble's own HTTPS: what a client's `directory_ca` names.
    public let caFile: String
    private var processes: [Process] = []

    /// - `httpPort`, `tlsPort`: where Pebble validates challenges (nil: a free port, for a test
    ///   that puts its listener there afterwards).
    /// - `validitySeconds`: the lifetime of certificates it issues (its default is five years).
    /// - `blocked`: names it refuses with a `rejectedIdentifier` problem.
    /// - `sleep`: the most seconds it waits before validating (0: none).
    ///
    /// Returns once the directory answers over HTTPS.
    public init(httpPort: Int? = nil, tlsPort: Int? = nil, validitySeconds: Int? = nil, blocked: [String] = [], sleep: Int = 0) throws {
        let pebble = try Self.executable("pebble", package: "pebble")
        let challtestsrv = try Self.executable("pebble-challtestsrv", package: "pebble")
        let openssl = try Self.executable("openssl", package: "openssl")
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("berth-pebble-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.path
        // A CA and a leaf for 127.0.0.1: Pebble's HTTPS listener.
        try Self.run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                               "-subj", "/CN=Pebble listener test CA", "-days", "2",
                               "-keyout", path + "/ca.key", "-out", path + "/ca.pem"])
        try Self.run(openssl, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                               "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                               "-keyout", path + "/listener.key", "-out", path + "/listener.csr"])
        try Self.run(openssl, ["x509", "-req", "-in", path + "/listener.csr", "-CA", path + "/ca.pem",
                               "-CAkey", path + "/ca.key", "-CAcreateserial", "-days", "2",
                               "-copy_extensions", "copy", "-out", path + "/listener.pem"])
        caFile = path + "/ca.pem"
        self.httpPort = try httpPort ?? Self.freePort()
        self.tlsPort = try tlsPort ?? Self.freePort()
        let apiPort = try Self.freePort(), managementPort = try Self.freePort()
        let dnsPort = try Self.freePort(), dnsManagementPort = try Self.freePort()
        directoryURL = "https://127.0.0.1:\(apiPort)/dir"
        var settings: [String: Any] = [
            "listenAddress": "127.0.0.1:\(apiPort)", "managementListenAddress": "127.0.0.1:\(managementPort)",
            "certificate": path + "/listener.pem", "privateKey": path + "/listener.key",
            "httpPort": self.httpPort, "tlsPort": self.tlsPort, "ocspResponderURL": "",
            "externalAccountBindingRequired": false, "domainBlocklist": blocked,
        ]
        if let validitySeconds { settings["certificateValidityPeriod"] = validitySeconds }
        try JSONSerialization.data(withJSONObject: ["pebble": settings]).write(to: folder.appendingPathComponent("pebble.json"))
        try start(challtestsrv, ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dnsPort)",
                                 "-http01", "", "-https01", "", "-tlsalpn01", "",
                                 "-management", "127.0.0.1:\(dnsManagementPort)"], log: "challtestsrv.log")
        // No PEBBLE_VA_ALWAYS_VALID: every challenge is really validated. Nonces are rejected
        // at random (5 %), as Pebble does by default, which exercises the client's retry.
        let pause = sleep > 0 ? ["PEBBLE_VA_SLEEPTIME": "\(sleep)"] : ["PEBBLE_VA_NOSLEEP": "1"]
        try start(pebble, ["-config", path + "/pebble.json", "-dnsserver", "127.0.0.1:\(dnsPort)"],
                  log: "pebble.log", environment: pause)
        try waitUntilReady()
    }

    /// Both logs, for counting orders and for failure messages.
    public var logs: String {
        ["challtestsrv.log", "pebble.log"].map { name in
            "--- \(name)\n" + ((try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
    }

    public func stop() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        processes = []
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }

    private func start(_ executable: String, _ arguments: [String], log: String, environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let logURL = folder.appendingPathComponent(log)
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: logURL)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        processes.append(process)
    }

    /// Pebble makes its CA keys first: wait until the directory answers over HTTPS. The bound
    /// is generous: on a machine busy with the rest of the suite a first answer can take long.
    private func waitUntilReady(timeout: TimeInterval = 120) throws {
        let curl = try Self.executable("curl", package: "curl")
        let end = Date().addingTimeInterval(timeout)
        while true {
            if (try? Self.run(curl, ["-s", "-f", "-o", "/dev/null", "--max-time", "2", "--cacert", caFile, directoryURL])) != nil {
                return
            }
            guard Date() < end, processes.allSatisfy(\.isRunning) else {
                stop()
                throw PebbleError("Pebble did not come up:\n\(logs)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// The path of `name` on PATH, or a failure that says which Debian package has it.
    private static func executable(_ name: String, package: String) throws -> String {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw PebbleError("'\(name)' is not installed; install it with 'apt-get install -y \(package)' (.ci/run does this)")
    }

    /// Runs a command to its end; a failure carries its output.
    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PebbleError("\(([executable] + arguments).joined(separator: " ")) failed (\(process.terminationStatus)): "
                              + String(decoding: text, as: UTF8.self))
        }
    }

    /// A TCP port free on 127.0.0.1 right now (UDP too, for the DNS server).
    public static func freePort() throws -> Int {
        for _ in 0..<20 {
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(tcp) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, length) == 0 && getsockname(tcp, $0, &length) == 0 }
            }
            guard bound else { continue }
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(udp) }
            let udpBound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, length) == 0 }
            }
            if udpBound { return Int(UInt16(bigEndian: address.sin_port)) }
        }
        throw PebbleError("no free port on 127.0.0.1")
    }
}

public struct PebbleError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
