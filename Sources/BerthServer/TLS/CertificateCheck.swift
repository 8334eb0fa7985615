import BerthConfig
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOSSL

/// A host's certificate chain and key, read and checked once per configuration generation.
struct HostCertificate: Sendable {
    /// The host the certificate was configured on, and every name it answers to.
    let hostName: String
    let hostNames: [String]
    let isDefaultHost: Bool
    let certificateFile: String
    let keyFile: String
    /// Leaf first, as the file lists them; sent as is in the handshake (RFC 8446 §4.4.2).
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    /// The leaf's subjectAltName entries: DNS names lowercased (`*.example.test` kept as is)
    /// and IP addresses in network byte order.
    let dnsNames: [String]
    let ipAddresses: [[UInt8]]
    let notValidAfter: Date
}

/// Reads each host's `tls:` files and checks what a client would otherwise only find out
/// mid-handshake: the files parse, the key belongs to the certificate, the certificate names
/// every name of the host, and it has not expired. Errors refuse the configuration (both
/// `berth check` and start-up); a certificate close to expiry is a warning.
enum CertificateCheck {
    /// Expiring within this many days warns, so renewal is noticed before clients fail.
    static let expiryWarningDays = 14

    struct Report {
        var certificates: [HostCertificate] = []
        var errors: [String] = []
        var warnings: [String] = []
    }

    static func check(_ hosts: [VirtualHostConfig], now: Date = Date()) -> Report {
        var report = Report()
        for host in hosts {
            guard let tls = host.tls else { continue }
            let prefix = "\(tls.location): host '\(host.name)'"
            switch self.load(host: host, tls: tls, now: now) {
            case .success(let (certificate, warnings)):
                report.certificates.append(certificate)
                report.warnings += warnings.map { "\(prefix): \($0)" }
            case .failure(let problems):
                report.errors += problems.messages.map { "\(prefix): \($0)" }
            }
        }
        return report
    }

    struct Problems: Error {
        var messages: [String]
    }

    static func load(host: VirtualHostConfig, tls: TLSConfig, now: Date) -> Result<(HostCertificate, [String]), Problems> {
        var problems: [String] = []
        var chain: [NIOSSLCertificate] = []
        var key: NIOSSLPrivateKey?
        switch self.read(tls.certificate) {
        case .success(let bytes):
            if let certificates = try? NIOSSLCertificate.fromPEMBytes(bytes), !certificates.isEmpty {
                chain = certificates
            } else {
                problems.append("certificate file '\(tls.certificate)' holds no PEM certificate")
            }
        case .failure(let reason):
            problems.append("cannot read certificate file '\(tls.certificate)': \(reason)")
        }
        switch self.read(tls.key) {
        case .success(let bytes):
            if let parsed = try? NIOSSLPrivateKey(bytes: bytes, format: .pem) {
                key = parsed
            } else {
                problems.append("key file '\(tls.key)' holds no PEM private key (an encrypted key must be decrypted first)")
            }
        case .failure(let reason):
            problems.append("cannot read key file '\(tls.key)': \(reason)")
        }
        guard let leaf = chain.first, let key, problems.isEmpty else { return .failure(Problems(messages: problems)) }

        if !self.keyMatches(chain: chain, key: key) {
            problems.append("key file '\(tls.key)' does not match certificate file '\(tls.certificate)'")
        }

        var dnsNames: [String] = []
        var ipAddresses: [[UInt8]] = []
        for name in leaf._subjectAlternativeNames() {
            switch name.nameType {
            case .dnsName: dnsNames.append(String(decoding: Array(name.contents), as: UTF8.self).lowercased())
            case .ipAddress: ipAddresses.append(Array(name.contents))
            default: break
            }
        }
        let hostNames = [host.name] + host.aliases
        if dnsNames.isEmpty && ipAddresses.isEmpty {
            problems.append("certificate file '\(tls.certificate)' has no subjectAltName; clients ignore the "
                + "subject's common name (RFC 6125 §6.4.4), so it covers none of the host's names")
        } else {
            let covered = dnsNames + ipAddresses.compactMap(IPAddressText.text)
            for name in hostNames where !self.covers(name, dnsNames: dnsNames, ipAddresses: ipAddresses) {
                problems.append("certificate file '\(tls.certificate)' does not cover '\(name)' (it covers: "
                    + covered.joined(separator: ", ") + ")")
            }
        }

        var warnings: [String] = []
        let notAfter = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        let notBefore = Date(timeIntervalSince1970: TimeInterval(leaf.notValidBefore))
        if notAfter <= now {
            problems.append("certificate file '\(tls.certificate)' expired on \(self.format(notAfter)); renew it")
        } else if notAfter.timeIntervalSince(now) < TimeInterval(self.expiryWarningDays * 86_400) {
            let days = Int(notAfter.timeIntervalSince(now) / 86_400)
            warnings.append("certificate file '\(tls.certificate)' expires on \(self.format(notAfter)) "
                + "(in \(days) day\(days == 1 ? "" : "s")); renew it soon")
        }
        if notBefore > now {
            warnings.append("certificate file '\(tls.certificate)' is not valid before \(self.format(notBefore)); "
                + "clients will refuse it until then (is the clock right?)")
        }
        guard problems.isEmpty else { return .failure(Problems(messages: problems)) }
        let certificate = HostCertificate(
            hostName: host.name, hostNames: hostNames, isDefaultHost: host.isDefault,
            certificateFile: tls.certificate, keyFile: tls.key, chain: chain, key: key,
            dnsNames: dnsNames, ipAddresses: ipAddresses, notValidAfter: notAfter)
        return .success((certificate, warnings))
    }

    /// BoringSSL refuses a private key whose public half differs from the leaf certificate's
    /// when both are installed in one context, which is exactly the check wanted here.
    static func keyMatches(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) -> Bool {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        return (try? NIOSSLContext(configuration: configuration)) != nil
    }

    /// RFC 6125 §6.4: DNS names compare case-insensitively; a wildcard covers exactly one
    /// leftmost label (`*.example.test` covers `a.example.test`, not `example.test` nor
    /// `a.b.example.test`). A wildcard host name needs the same wildcard in the certificate.
    /// IP literals (`127.0.0.1`, `[::1]`) need an iPAddress entry.
    static func covers(_ name: String, dnsNames: [String], ipAddresses: [[UInt8]]) -> Bool {
        if let address = IPAddressText.bytes(name) {
            return ipAddresses.contains(address)
        }
        let name = name.lowercased()
        if dnsNames.contains(name) { return true }
        if name.hasPrefix("*.") { return false }
        guard let dot = name.firstIndex(of: ".") else { return false }
        return dnsNames.contains("*" + name[dot...])
    }

    private static func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(ReadFailure(errno: errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(errno: errno))
            }
            if count == 0 { return .success(bytes) }
            bytes += chunk[..<count]
            // Certificates and keys are small; anything larger is not one.
            if bytes.count > 1 << 20 { return .success([]) }
        }
    }

    private struct ReadFailure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { String(cString: strerror(self.errno)) }
    }

    /// `2027-01-31 12:00 UTC`.
    private static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M UTC", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// IP literals as host names write them (`127.0.0.1`, `[::1]`) and as certificates store them
/// (4 or 16 bytes, RFC 5280 §4.2.1.6).
enum IPAddressText {
    static func bytes(_ text: String) -> [UInt8]? {
        var literal = Substring(text)
        if literal.hasPrefix("["), literal.hasSuffix("]") { literal = literal.dropFirst().dropLast() }
        var v4 = in_addr()
        if inet_pton(AF_INET, String(literal), &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, String(literal), &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    static func text(_ bytes: [UInt8]) -> String? {
        let family = bytes.count == 4 ? AF_INET : bytes.count == 16 ? AF_INET6 : nil
        guard let family else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}
