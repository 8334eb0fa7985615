import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Pebble, the ACME test server, and pebble-challtestsrv as its DNS (every name is
/// 127.0.0.1), started on free loopback ports for one test and stopped after it. Validation
/// is real: Pebble connects to `httpPort` and `tlsPort`, where the test's responders listen.
final class Pebble {
    let folder: TemporaryFolder
    /// The PEM file that Pebble's HTTPS certificate chains to: what `directory_ca` names.
    let caFile: String
    let directoryURL: String
    private var processes: [Process] = []

    /// Both binaries, or a failure that says how to get them: a missing Pebble must fail the
    /// test, never skip it.
    static func executable(_ name: String) throws -> String {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") + ["/usr/bin"] {
            let path = "\(folder)/\(name)"
            if access(path, X_OK) == 0 { return path }
        }
        throw PebbleError("'\(name)' is not installed; install Debian's package with 'apt-get install -y pebble' "
                          + "(.ci/run does this)")
    }

    init(httpPort: Int, tlsPort: Int) throws {
        let pebble = try Pebble.executable("pebble")
        let challtestsrv = try Pebble.executable("pebble-challtestsrv")
        folder = try TemporaryFolder()
        let ca = try TestCertificateAuthority(commonName: "Pebble listener test CA")
        let (certificate, key) = try ca.leaf(dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]])
        caFile = folder.path + "/listener-ca.pem"
        try ca.pem.write(toFile: caFile, atomically: true, encoding: .utf8)
        try certificate.pem.write(toFile: folder.path + "/listener.pem", atomically: true, encoding: .utf8)
        try key.pemRepresentation.write(toFile: folder.path + "/listener.key", atomically: true, encoding: .utf8)

        let (apiPort, managementPort, dnsPort, dnsManagementPort) = (try freePort(), try freePort(), try freePort(udp: true), try freePort())
        directoryURL = "https://127.0.0.1:\(apiPort)/dir"
        let config = """
            {"pebble": {"listenAddress": "127.0.0.1:\(apiPort)", "managementListenAddress": "127.0.0.1:\(managementPort)",
              "certificate": "\(folder.path)/listener.pem", "privateKey": "\(folder.path)/listener.key",
              "httpPort": \(httpPort), "tlsPort": \(tlsPort), "ocspResponderURL": "",
              "externalAccountBindingRequired": false}}
            """
        try config.write(toFile: folder.path + "/pebble.json", atomically: true, encoding: .utf8)
        try start(challtestsrv, ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dnsPort)",
                                 "-http01", "", "-https01", "", "-tlsalpn01", "",
                                 "-management", "127.0.0.1:\(dnsManagementPort)"], log: "challtestsrv.log")
        // No PEBBLE_VA_ALWAYS_VALID: every challenge is really validated. NOSLEEP only drops
        // Pebble's random 0-15 s pause before validating; nonces keep being rejected at random
        // (5 %), which exercises the badNonce retry.
        try start(pebble, ["-config", folder.path + "/pebble.json", "-dnsserver", "127.0.0.1:\(dnsPort)"],
                  log: "pebble.log", environment: ["PEBBLE_VA_NOSLEEP": "1"])
    }

    private func start(_ executable: String, _ arguments: [String], log: String,
                       environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        FileManager.default.createFile(atPath: folder.path + "/" + log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.path + "/" + log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        processes.append(process)
    }

    /// Pebble generates its CA keys first: wait until the directory answers over HTTPS. The
    /// bound is generous: on a machine busy with the rest of the suite (its end-to-end tests
    /// block threads while they wait for processes), a first answer can take long to be seen.
    func waitUntilReady(timeout: TimeInterval = 120, probe: () async throws -> Void) async throws {
        let end = Date() + timeout
        while true {
            do {
                try await probe()
                return
            } catch {
                guard Date() < end, processes.allSatisfy(\.isRunning) else {
                    throw PebbleError("Pebble did not come up: \(error)\n\(logs)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The end of both logs, for a failure message.
    var logs: String {
        ["challtestsrv.log", "pebble.log"].map { name in
            let text = (try? String(contentsOfFile: folder.path + "/" + name, encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(separator: "\n").suffix(30).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    func stop() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        processes = []
        folder.remove()
    }
}

struct PebbleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A port the kernel calls free on 127.0.0.1 right now (TCP, and UDP too for a DNS server).
func freePort(udp: Bool = false) throws -> Int {
    for _ in 0..<20 {
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(tcp) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(tcp, $0, length) == 0 && getsockname(tcp, $0, &length) == 0
            }
        }
        guard bound else { continue }
        guard udp else { return Int(UInt16(bigEndian: address.sin_port)) }
        let datagram = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(datagram) }
        let udpBound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(datagram, $0, length) == 0 }
        }
        if udpBound { return Int(UInt16(bigEndian: address.sin_port)) }
    }
    throw PebbleError("no free port on 127.0.0.1")
}
