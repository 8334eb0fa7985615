import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What Berth keeps on disk for ACME, under one folder (`storage:` in the config):
///
/// ```
/// accounts/<directory>/account.key   the account key, PEM, 0600
/// accounts/<directory>/account.json  its URL at the CA, to skip the lookup on start
/// certificates/<name>/key.pem        a host's certificate key, PEM, 0600
/// certificates/<name>/chain.pem      its certificate chain, leaf first, 0644
/// ```
/// `<directory>` is the CA's directory URL made into a file name, so a staging and a
/// production account never mix up. Every file is written atomically (`AtomicFile`).
public struct CertificateStorage: Sendable {
    public let root: String
    /// The account the workers run as: keys must be readable by it (files stay 0600).
    public let owner: (uid: uid_t, gid: gid_t)?

    public init(root: String, owner: (uid: uid_t, gid: gid_t)? = nil) {
        self.root = root
        self.owner = owner
    }

    // MARK: - Account

    public func accountFolder(directoryURL: String) -> String {
        "\(root)/accounts/\(CertificateStorage.fileName(forURL: directoryURL))"
    }

    /// The stored account key for a CA, or a new one, stored before first use so that a
    /// crash after account creation cannot lose the key the account is bound to.
    public func accountKey(directoryURL: String) throws -> AccountKey {
        let path = accountFolder(directoryURL: directoryURL) + "/account.key"
        if let bytes = try AtomicFile.read(path) {
            do {
                return try AccountKey(pem: String(decoding: bytes, as: UTF8.self))
            } catch {
                throw ACMEError.storage(path: path, reason: "not a P-256 private key in PEM: \(error)")
            }
        }
        let key = AccountKey()
        try AtomicFile.makeFolder(accountFolder(directoryURL: directoryURL), mode: 0o700, owner: nil)
        try AtomicFile.write(Array(key.pem.utf8), to: path, mode: 0o600)
        return key
    }

    struct AccountRecord: Codable {
        var directory: String
        var url: String
    }

    public func accountURL(directoryURL: String) throws -> String? {
        let path = accountFolder(directoryURL: directoryURL) + "/account.json"
        guard let bytes = try AtomicFile.read(path) else { return nil }
        return (try? JSONDecoder().decode(AccountRecord.self, from: Data(bytes)))?.url
    }

    public func saveAccountURL(_ url: String, directoryURL: String) throws {
        let folder = accountFolder(directoryURL: directoryURL)
        try AtomicFile.makeFolder(folder, mode: 0o700)
        let record = try JSONEncoder().encode(AccountRecord(directory: directoryURL, url: url))
        try AtomicFile.write(Array(record), to: folder + "/account.json", mode: 0o600)
    }

    // MARK: - Certificates

    public func certificateFolder(name: String) -> String {
        "\(root)/certificates/\(CertificateStorage.fileName(forHost: name))"
    }

    /// The stored certificate of `name`; nil when there is none or it is unreadable as a
    /// matching pair (a torn write), which the caller treats as "order one".
    public func certificate(name: String) throws -> StoredCertificate? {
        let folder = certificateFolder(name: name)
        guard let chain = try AtomicFile.read(folder + "/chain.pem"),
              let key = try AtomicFile.read(folder + "/key.pem")
        else { return nil }
        return try? StoredCertificate(chainPEM: String(decoding: chain, as: UTF8.self),
                                      keyPEM: String(decoding: key, as: UTF8.self))
    }

    /// Key first, then chain: a reader that finds the new chain finds its key too.
    public func save(_ certificate: StoredCertificate, name: String) throws {
        let folder = certificateFolder(name: name)
        try AtomicFile.makeFolder(folder, mode: 0o755, owner: owner)
        try AtomicFile.write(Array(certificate.keyPEM.utf8), to: folder + "/key.pem", mode: 0o600, owner: owner)
        try AtomicFile.write(Array(certificate.chainPEM.utf8), to: folder + "/chain.pem", mode: 0o644, owner: owner)
    }

    // MARK: - File names

    /// Host names are already safe file names (letters, digits, '-', '.'); anything else, and
    /// a leading '.', is replaced so no name can climb out of its folder.
    static func fileName(forHost name: String) -> String {
        var result = String(name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        if result.hasPrefix(".") || result.isEmpty { result = "_" + result }
        return result
    }

    /// `https://acme-v02.api.letsencrypt.org/directory` → `acme-v02.api.letsencrypt.org-directory`.
    static func fileName(forURL url: String) -> String {
        var text = Substring(url)
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        let mapped = text.map { character -> Character in
            switch character {
            case "/": return "-"
            case ":": return "_"
            default: return character.isLetter || character.isNumber || character == "." || character == "-" ? character : "_"
            }
        }
        var result = String(mapped)
        while result.hasSuffix("-") { result.removeLast() }
        return fileName(forHost: result)
    }
}
