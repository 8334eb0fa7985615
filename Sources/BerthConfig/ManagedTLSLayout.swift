/// Where the files of managed certificates (`tls: auto`, `tls: internal`) live under the
/// storage folder, in one place for the two processes that share them: the certificate
/// coordinator (`berth-acme`) writes them, every worker reads them.
///
/// ```
/// <storage>/certificates/<host>/{chain,key}.pem           tls: auto, from the ACME CA
/// <storage>/internal/certificates/<host>/{chain,key}.pem  tls: internal, from the local root
/// <storage>/placeholders/<host>/{chain,key}.pem           self-signed, until the first one arrives
/// <storage>/local-ca/root.pem                              the local root (`berth ca path`)
/// <storage>/challenges/http-01/<token>                     HTTP-01 answers being validated
/// ```
/// `<host>` is the host's primary name, made a safe file name the way BerthACME's
/// `CertificateStorage` makes it (`*` becomes `_`); the two must agree.
public struct ManagedTLSLayout: Sendable, Equatable {
    public let storage: String

    public init(storage: String) {
        self.storage = storage
    }

    public init(config: ServerConfig) {
        self.init(storage: config.managedTLSStorage)
    }

    /// The root that BerthACME's `CertificateStorage` is opened on for an issuer.
    public func storageRoot(for issuer: ManagedTLSConfig.Issuer) -> String {
        issuer == .acme ? storage : storage + "/internal"
    }

    public var placeholderRoot: String { storage + "/placeholders" }
    public var localRootCertificate: String { storage + "/local-ca/root.pem" }
    /// Served by every worker at `/.well-known/acme-challenge/<token>` while it exists.
    public var http01Folder: String { storage + "/challenges/http-01" }

    /// The chain and key a host serves once its certificate is issued.
    public func certificateFiles(host: String, issuer: ManagedTLSConfig.Issuer) -> (chain: String, key: String) {
        Self.files(in: storageRoot(for: issuer), host: host)
    }

    /// The self-signed stand-in served until then.
    public func placeholderFiles(host: String) -> (chain: String, key: String) {
        Self.files(in: placeholderRoot, host: host)
    }

    static func files(in root: String, host: String) -> (chain: String, key: String) {
        let folder = "\(root)/certificates/\(fileName(forHost: host))"
        return (folder + "/chain.pem", folder + "/key.pem")
    }

    /// Host names are safe file names already (letters, digits, '-', '.'); anything else, and
    /// a leading '.', is replaced so no name can climb out of its folder.
    public static func fileName(forHost name: String) -> String {
        var result = String(name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        if result.hasPrefix(".") || result.isEmpty { result = "_" + result }
        return result
    }
}

extension VirtualHostConfig {
    /// Every name a managed certificate must cover: the host's name, then its aliases.
    public var allNames: [String] { [name] + aliases }
}
