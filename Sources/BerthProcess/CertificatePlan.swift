import BerthConfig
import FoundationEssentials

/// What the certificate coordinator (`berth-acme`) is told to keep: the managed hosts of a
/// configuration and how to reach the CA. The master hands it over as one JSON line on the
/// coordinator's control descriptor, and compares it on reload: an unchanged plan keeps the
/// running coordinator (and any order it has in flight).
package struct CertificatePlan: Codable, Equatable, Sendable {
    package struct Host: Codable, Equatable, Sendable {
        /// The primary name, which names the host's files in storage.
        package var name: String
        /// Every name the certificate covers, the primary one first.
        package var names: [String]
        package var issuer: ManagedTLSConfig.Issuer
    }

    package var hosts: [Host]
    /// With file positions cleared, so moving the block in the file changes nothing.
    package var acme: ACMEConfig?
    package var storage: String
    /// A listener without TLS exists, where the CA's HTTP-01 requests can arrive.
    package var answersHTTP01: Bool
    /// The account the workers run as: certificate keys must be readable by it.
    package var workerUID: UInt32?
    package var workerGID: UInt32?
    package var errorLog: LogDestination

    /// nil when the configuration has no `tls: auto` or `tls: internal` host.
    package init?(config: ServerConfig) {
        let hosts = config.hosts.compactMap { host -> Host? in
            host.managedTLS.map { Host(name: host.name, names: host.allNames, issuer: $0.issuer) }
        }
        guard !hosts.isEmpty else { return nil }
        self.hosts = hosts
        self.acme = config.acme.map {
            var acme = $0
            acme.location = SourceLocation(file: "", line: 0, column: 0)
            return acme
        }
        self.storage = config.managedTLSStorage
        self.answersHTTP01 = config.listeners.contains { !$0.tls }
        self.workerUID = config.runAs?.uid
        self.workerGID = config.runAs?.gid
        self.errorLog = config.logs.error
    }

    package func line() throws -> [UInt8] {
        Array(try ConfigJSON.encode(self)) + [UInt8(ascii: "\n")]
    }
}

/// What the coordinator reports on its status descriptor, one line each.
package enum CoordinatorReport: Equatable, Sendable {
    /// Every managed host has a certificate or a placeholder on disk: workers can start.
    case ready
    /// A host's certificate in service (issued or reused from storage) and when it expires.
    case certificate(host: String, notAfter: Double)
    /// An order ended; the outcome is "success" or "failure" (`berth_acme_orders_total`).
    case order(outcome: String)
    /// Could not start at all; the text says why. The coordinator exits next.
    case failed(String)

    package init?(line: Substring) {
        let words = line.split(separator: " ", maxSplits: 2)
        switch words.first {
        case "ready": self = .ready
        case "order" where words.count == 2: self = .order(outcome: String(words[1]))
        case "certificate" where words.count == 3:
            guard let notAfter = Double(words[2]) else { return nil }
            self = .certificate(host: String(words[1]), notAfter: notAfter)
        case "failed": self = .failed(String(line.dropFirst(7)).replacing("\\n", with: "\n"))
        default: return nil
        }
    }

    package var line: String {
        switch self {
        case .ready: return "ready\n"
        case .certificate(let host, let notAfter): return "certificate \(host) \(notAfter)\n"
        case .order(let outcome): return "order \(outcome)\n"
        case .failed(let message): return "failed \(message.replacing("\n", with: "\\n"))\n"
        }
    }
}
