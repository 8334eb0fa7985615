import BerthConfig
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import Synchronization

/// The certificates of managed hosts (`tls: auto`, `tls: internal`) as a worker serves them,
/// read from the files the certificate coordinator (`berth-acme`) writes (`ManagedTLSLayout`).
///
/// The coordinator writes each file atomically (a rename), so a changed file is a new inode.
/// `scan` compares what `stat` says with what was last read, and reads again only then: a
/// handful of `stat` calls a second costs nothing, needs no channel from the coordinator to
/// every worker, and a worker that starts, restarts or belongs to a new generation finds the
/// same files. Each host serves, in order of preference:
///
/// 1. its issued certificate, once it parses, matches its key, covers the host's names and
///    has not expired;
/// 2. else the certificate it served before (a torn pair or a bad file never replaces a good
///    certificate);
/// 3. else the coordinator's short-lived self-signed placeholder, with a log line saying why.
final class ManagedCertificates: Sendable {
    struct Host: Sendable {
        let config: VirtualHostConfig
        let issuer: ManagedTLSConfig.Issuer
        let issued: (chain: String, key: String)
        let placeholder: (chain: String, key: String)
    }

    /// What `stat` says of a pair of files; a rename into place changes the inode.
    struct Signature: Equatable {
        var chain: [Int]
        var key: [Int]
    }

    enum Source: Equatable { case issued, placeholder }

    struct Served {
        var certificate: HostCertificate?
        var source: Source?
        /// The issued pair last read (or found unusable), so a bad file is read and logged once.
        var issuedSeen: Signature?
        var placeholderSeen: Signature?
    }

    let hosts: [Host]
    private let served: Mutex<[Served]>
    private let logger: Logger

    /// Nil when the configuration has no managed host.
    init?(config: ServerConfig, logger: Logger) {
        let layout = ManagedTLSLayout(config: config)
        let hosts = config.hosts.compactMap { host -> Host? in
            guard let managed = host.managedTLS else { return nil }
            return Host(config: host, issuer: managed.issuer,
                        issued: layout.certificateFiles(host: host.name, issuer: managed.issuer),
                        placeholder: layout.placeholderFiles(host: host.name))
        }
        guard !hosts.isEmpty else { return nil }
        self.hosts = hosts
        self.served = Mutex(Array(repeating: Served(), count: hosts.count))
        self.logger = logger
    }

    /// The certificates to serve now, and whether any differs from the previous scan.
    func scan(now: Date = Date()) -> (certificates: [HostCertificate], changed: Bool) {
        self.served.withLock { served in
            var changed = false
            for (index, host) in self.hosts.enumerated() {
                if self.update(&served[index], host: host, now: now) { changed = true }
            }
            return (served.compactMap(\.certificate), changed)
        }
    }

    /// Hosts that have nothing to serve (neither certificate nor placeholder on disk).
    var hostsWithoutCertificate: [String] {
        self.served.withLock { served in
            zip(self.hosts, served).filter { $0.1.certificate == nil }.map(\.0.config.name)
        }
    }

    private func update(_ state: inout Served, host: Host, now: Date) -> Bool {
        let name = host.config.name
        if let signature = Self.signature(host.issued), signature != state.issuedSeen {
            state.issuedSeen = signature
            switch self.load(host, files: host.issued, now: now) {
            case .success(let certificate):
                let replaced = state.certificate != nil
                state.certificate = certificate
                state.source = .issued
                self.logger.notice(replaced ? "certificate swapped in" : "certificate loaded", metadata: [
                    "http.host": "\(name)", "tls.not_after": "\(certificate.notValidAfter)",
                    "tls.issuer": "\(host.issuer == .acme ? "acme" : "internal")",
                ])
                return true
            case .failure(let problems):
                self.logger.warning("stored certificate not usable; keeping what the host serves", metadata: [
                    "http.host": "\(name)", "error": "\(problems.messages.joined(separator: "; "))",
                ])
            }
        }
        guard state.source != .issued,
              let signature = Self.signature(host.placeholder), signature != state.placeholderSeen
        else { return false }
        state.placeholderSeen = signature
        switch self.load(host, files: host.placeholder, now: now) {
        case .success(let certificate):
            state.certificate = certificate
            state.source = .placeholder
            let why = host.issuer == .acme
                ? "no certificate from the ACME CA yet" : "no certificate from the local CA yet"
            let message = "\(why); HTTPS handshakes for this host use a temporary self-signed certificate until it arrives (plain HTTP is not affected)"
            self.logger.warning("\(message)", metadata: ["http.host": "\(name)"])
            return true
        case .failure(let problems):
            self.logger.error("placeholder certificate not usable", metadata: [
                "http.host": "\(name)", "error": "\(problems.messages.joined(separator: "; "))",
            ])
            return false
        }
    }

    private func load(_ host: Host, files: (chain: String, key: String),
                      now: Date) -> Result<HostCertificate, CertificateCheck.Problems> {
        let location = host.config.managedTLS?.location ?? host.config.location
        let tls = TLSConfig(certificate: files.chain, key: files.key, location: location)
        return CertificateCheck.load(host: host.config, tls: tls, now: now).map(\.0)
    }

    /// nil while either file is missing.
    static func signature(_ files: (chain: String, key: String)) -> Signature? {
        func identity(_ path: String) -> [Int]? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return [Int(info.st_dev), Int(info.st_ino), Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
        }
        guard let chain = identity(files.chain), let key = identity(files.key) else { return nil }
        return Signature(chain: chain, key: key)
    }
}
