internal import Yams

/// A host's certificate and key: the `tls:` key of a host. The server picks them by SNI on
/// listeners marked `tls: true`.
///
/// ```yaml
/// tls:
///   certificate: tls/shop.pem    # PEM chain, leaf first; the file must exist
///   key: tls/shop.key            # PEM private key; the file must exist
/// ```
public struct TLSConfig: Sendable, Equatable {
    /// Absolute path of the PEM certificate chain.
    public var certificate: String
    /// Absolute path of the PEM private key.
    public var key: String
    public var location: SourceLocation

    public init(certificate: String, key: String, location: SourceLocation) {
        self.certificate = certificate
        self.key = key
        self.location = location
    }
}

extension ConfigReader {
    static let tlsKeys = ["certificate", "key"]

    func readTLS(_ node: Node, host: String) -> TLSConfig? {
        let context = "in 'tls' of host '\(host)'"
        guard let fields = fields(of: node, expected: "a mapping with 'certificate' and 'key'",
                                  context: context, allowed: ConfigReader.tlsKeys)
        else { return nil }
        let certificate = required("certificate", in: fields, context: context,
                                   expected: "the path of a PEM certificate file")
            .flatMap { file($0, what: "certificate file") }
        let key = required("key", in: fields, context: context,
                           expected: "the path of a PEM private key file")
            .flatMap { file($0, what: "key file") }
        guard let certificate, let key else { return nil }
        return TLSConfig(certificate: certificate, key: key, location: location(node))
    }
}
