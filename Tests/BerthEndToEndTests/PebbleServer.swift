import Foundation
import Testing

/// Pebble (the ACME test server) and pebble-challtestsrv as its DNS, answering 127.0.0.1 for
/// every name, started on free loopback ports for one test. Validation is real: Pebble
/// fetches HTTP-01 answers from `httpPort`, where berth's plain listener must be.
final class PebbleServer: @unchecked Sendable {
    let folder: URL
    let httpPort: Int
    let directoryURL: String
    /// Trust for Pebble's own HTTPS: what `directory_ca` names.
    let caFile: String
    private var processes: [Process] = []

    /// `validitySeconds`: the lifetime of certificates it issues (its default is five years).
    /// `blocked`: names it refuses with a `rejectedIdentifier` problem. `sleep`: the most
    /// seconds it waits before validating (0: none).
    init(validitySeconds: Int? = nil, blocked: [String] = [], sleep: Int = 0) throws {
        let pebble = try Tool.path("pebble"), challtestsrv = try Tool.path("pebble-challtestsrv")
        folder = try TemporaryDirectory.make()
        let path = folder.path
        // A CA and a leaf for 127.0.0.1, made with openssl: Pebble's HTTPS listener.
        try Tool.run(Tool.openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                    "-subj", "/CN=Pebble listener test CA", "-days", "2",
                                    "-keyout", path + "/ca.key", "-out", path + "/ca.pem"])
        try Tool.run(Tool.openssl, ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                                    "-keyout", path + "/listener.key", "-out", path + "/listener.csr"])
        try Tool.run(Tool.openssl, ["x509", "-req", "-in", path + "/listener.csr", "-CA", path + "/ca.pem",
                                    "-CAkey", path + "/ca.key", "-CAcreateserial", "-days", "2",
                                    "-copy_extensions", "copy", "-out", path + "/listener.pem"])
        caFile = path + "/ca.pem"
        httpPort = try Self.freePort()
        let apiPort = try Self.freePort(), managementPort = try Self.freePort()
        let dnsPort = try Self.freePort(), dnsManagementPort = try Self.freePort()
        directoryURL = "https://127.0.0.1:\(apiPort)/dir"
        var settings: [String: Any] = [
            "listenAddress": "127.0.0.1:\(apiPort)", "managementListenAddress": "127.0.0.1:\(managementPort)",
            "certificate": path + "/listener.pem", "privateKey": path + "/listener.key",
            "httpPort": httpPort, "tlsPort": try Self.freePort(), "ocspResponderURL": "",
            "externalAccountBindingRequired": false, "domainBlocklist": blocked,
        ]
        if let validitySeconds { settings["certificateValidityPeriod"] = validitySeconds }
        try JSONSerialization.data(withJSONObject: ["pebble": settings]).write(to: folder.appendingPathComponent("pebble.json"))
        try start(challtestsrv, ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dnsPort)",
                                 "-http01", "", "-https01", "", "-tlsalpn01", "",
                                 "-management", "127.0.0.1:\(dnsManagementPort)"], log: "challtestsrv.log")
        let pause = sleep > 0 ? ["PEBBLE_VA_SLEEPTIME": "\(sleep)"] : ["PEBBLE_VA_NOSLEEP": "1"]
        // Nonces are rejected at random (5 %), as Pebble does by default: the client retries.
        try start(pebble, ["-config", path + "/pebble.json", "-dnsserver", "127.0.0.1:\(dnsPort)"],
                  log: "pebble.log", environment: pause)
        try waitUntilReady()
    }

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

    /// Pebble makes its CA keys first: wait until the directory answers over HTTPS.
    private func waitUntilReady(timeout: TimeInterval = 120) throws {
        let end = Date().addingTimeInterval(timeout)
        while true {
            let probe = try Tool.execute(Tool.curl, ["-s", "-f", "--max-time", "2", "--cacert", caFile, directoryURL])
            if probe.status == 0 { return }
            guard Date() < end, processes.allSatisfy(\.isRunning) else {
                throw BerthProcessError.didNotStart("Pebble did not come up:\n\(logs)")
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// Lines of Pebble's log, for counting orders and for failure messages.
    var logs: String {
        ["challtestsrv.log", "pebble.log"].map { name in
            "--- \(name)\n" + ((try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
    }

    func stop() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        processes = []
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }

    /// A TCP port free on 127.0.0.1 right now (UDP too, for the DNS server).
    static func freePort() throws -> Int {
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
        throw BerthProcessError.didNotStart("no free port on 127.0.0.1")
    }
}
