internal import Yams
import BerthConfig

extension ConfigReader {
    static let tlsKeys = ["certificate", "key", "redirect_http", "hsts"]
    static let listenerTLSKeys = ["min_version"]

    /// A host's `tls:` mapping: certificate files, or `certificate: auto` / `internal` for a
    /// certificate Berth obtains itself (`tls: auto` with room for `redirect_http` and `hsts`).
    enum HostTLS {
        case files(TLSConfig)
        case managed(ManagedTLSConfig)
    }

    func readTLS(_ node: Node, host: String) -> HostTLS? {
        let context = "in 'tls' of host '\(host)'"
        guard let fields = fields(of: node, expected: "a mapping with 'certificate' and 'key'",
                                  context: context, allowed: ConfigReader.tlsKeys)
        else { return nil }
        var valid = true
        if let certificateNode = fields["certificate"], let word = certificateNode.scalar?.string,
           let issuer = ManagedTLSConfig.Issuer(rawValue: word) {
            if let keyNode = fields["key"] {
                error("'key' does not go with 'certificate: \(word)': berth makes the key itself; remove it", at: keyNode)
                valid = false
            }
            var managed = ManagedTLSConfig(issuer: issuer, location: location(certificateNode))
            readRedirectAndHSTS(fields, redirectHTTP: &managed.redirectHTTP, hsts: &managed.hsts, valid: &valid)
            return valid ? .managed(managed) : nil
        }
        let certificate = required("certificate", in: fields, context: context,
                                   expected: "the path of a PEM certificate file")
            .flatMap { file($0, what: "certificate file") }
        let key = required("key", in: fields, context: context,
                           expected: "the path of a PEM private key file")
            .flatMap { file($0, what: "key file") }
        var redirectHTTP = false
        var hsts: String?
        readRedirectAndHSTS(fields, redirectHTTP: &redirectHTTP, hsts: &hsts, valid: &valid)
        guard let certificate, let key, valid else { return nil }
        return .files(TLSConfig(certificate: certificate, key: key, redirectHTTP: redirectHTTP, hsts: hsts,
                                location: location(node)))
    }

    private func readRedirectAndHSTS(_ fields: Fields, redirectHTTP: inout Bool, hsts: inout String?, valid: inout Bool) {
        if let node = fields["redirect_http"] {
            if let value = bool(node) { redirectHTTP = value } else { valid = false }
        }
        if let node = fields["hsts"] {
            if let value = readHSTS(node) { hsts = value.isEmpty ? nil : value } else { valid = false }
        }
    }

    /// `true`, `false`, or a header value of RFC 6797 §6.1: `max-age=N` with the optional
    /// `includeSubDomains` and `preload` directives. "" stands for off.
    private func readHSTS(_ node: Node) -> String? {
        let expected = "true, false or a header value like \"max-age=31536000; includeSubDomains\""
        guard let text = scalar(node, expected: expected) else { return nil }
        switch text {
        case "true", "True", "TRUE": return TLSConfig.defaultHSTS
        case "false", "False", "FALSE": return ""
        default: break
        }
        var sawMaxAge = false
        for directive in text.split(separator: ";") {
            let trimmed = directive.trimmingSpaces().lowercased()
            if trimmed.hasPrefix("max-age=") {
                let value = trimmed.dropFirst("max-age=".count)
                let digits = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2
                    ? value.dropFirst().dropLast() : value
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), !sawMaxAge else {
                    error("expected \(expected), found \(found(node))", at: node)
                    return nil
                }
                sawMaxAge = true
            } else if trimmed != "includesubdomains" && trimmed != "preload" {
                error("expected \(expected), found \(found(node)) (unknown directive '\(directive.trimmingSpaces())')",
                      at: node)
                return nil
            }
        }
        guard sawMaxAge else {
            error("expected \(expected), found \(found(node)) (max-age is required)", at: node)
            return nil
        }
        return String(text.trimmingSpaces())
    }

    /// A listener's `tls:` is `true`, `false`, or a mapping of TLS settings (which means true).
    func readListenerTLS(_ node: Node, into listener: inout ListenerConfig) -> Bool {
        guard case .mapping = node else {
            if let value = bool(node) {
                listener.tls = value
                return true
            }
            return false
        }
        let context = "in 'tls' of listener"
        guard let fields = fields(of: node, expected: "true, false or a mapping like { min_version: \"1.3\" }",
                                  context: context, allowed: ConfigReader.listenerTLSKeys)
        else { return false }
        listener.tls = true
        if let versionNode = fields["min_version"] {
            guard let text = choice(versionNode, from: TLSMinimumVersion.allCases.map(\.rawValue)),
                  let version = TLSMinimumVersion(rawValue: text)
            else { return false }
            listener.tlsMinimumVersion = version
        }
        return true
    }
}
