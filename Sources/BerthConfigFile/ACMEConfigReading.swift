internal import Yams
import BerthConfig

extension ConfigReader {
    static let acmeKeys = ["email", "directory", "directory_ca", "storage", "challenges"]

    func readACME(_ node: Node) -> ACMEConfig? {
        let context = "in 'acme'"
        guard let fields = fields(of: node, expected: "a mapping like { email: admin@example.org }",
                                  context: context, allowed: ConfigReader.acmeKeys)
        else { return nil }
        var acme = ACMEConfig(storage: ConfigPath.resolve("acme", against: baseDirectory), location: location(node))
        acmeChallengesLocation = acme.location
        var valid = true
        if let node = fields["email"] {
            if let email = readEmail(node) { acme.email = email } else { valid = false }
        }
        if let node = fields["directory"] {
            if let url = readDirectoryURL(node) { acme.directory = url } else { valid = false }
        }
        if let node = fields["directory_ca"] {
            if let file = file(node, what: "directory CA file") { acme.directoryCA = file } else { valid = false }
        }
        if let node = fields["storage"] {
            if let folder = readStorage(node) { acme.storage = folder } else { valid = false }
        }
        if let node = fields["challenges"] {
            acmeChallengesLocation = location(node)
            if let challenges = readChallenges(node) { acme.challenges = challenges } else { valid = false }
        }
        return valid ? acme : nil
    }

    /// The account contact (RFC 8555 §7.3), written without `mailto:`.
    private func readEmail(_ node: Node) -> String? {
        let expected = "an email address like admin@example.org"
        guard let text = string(node, expected: expected) else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
              !parts[1].hasSuffix("."), !text.hasPrefix("mailto:"),
              !text.contains(where: { $0 == " " || $0 == "," || $0 == "<" || $0 == ">" || !$0.isASCII })
        else {
            error("expected \(expected), found \(found(node))", at: node)
            return nil
        }
        return text
    }

    /// RFC 8555 §6.1: every ACME request goes over HTTPS, the directory included.
    private func readDirectoryURL(_ node: Node) -> String? {
        let expected = "the https:// URL of an ACME directory"
        guard let text = string(node, expected: expected) else { return nil }
        let rest = text.lowercased().hasPrefix("https://") ? text.dropFirst("https://".count) : nil
        guard let rest, let host = rest.split(separator: "/", omittingEmptySubsequences: false).first,
              !host.isEmpty, !text.contains(where: { $0 == " " || !$0.isASCII })
        else {
            let hint = text.lowercased().hasPrefix("http://") ? " (ACME requires https)" : ""
            error("expected \(expected), found \(found(node))\(hint)", at: node)
            return nil
        }
        return text
    }

    /// Created on first use, parents included; only something else in its place is wrong.
    private func readStorage(_ node: Node) -> String? {
        guard let folder = path(node, expected: "the path of a folder for ACME keys and certificates")
        else { return nil }
        switch ConfigPath.kind(of: folder) {
        case .missing, .directory: return folder
        case .file, .other:
            error("ACME storage '\(folder)' is not a folder", at: node)
            return nil
        }
    }

    private func readChallenges(_ node: Node) -> [ACMEChallengeKind]? {
        let names = ACMEChallengeKind.allCases.map(\.rawValue)
        guard let items = sequence(node, expected: "a list of challenge types like [http-01, tls-alpn-01]")
        else { return nil }
        if items.isEmpty {
            error("expected at least one challenge type of \(names.joined(separator: ", "))", at: node)
            return nil
        }
        var challenges: [ACMEChallengeKind] = []
        var valid = true
        for item in items {
            guard let name = choice(item, from: names), let kind = ACMEChallengeKind(rawValue: name) else {
                valid = false
                continue
            }
            if challenges.contains(kind) {
                error("challenge type '\(name)' is listed twice", at: item)
                valid = false
            }
            challenges.append(kind)
        }
        return valid ? challenges : nil
    }

    /// A host's `tls:` as a word: `auto` or `internal`. Nil for a mapping, which `readTLS` reads.
    func readManagedTLS(_ node: Node) -> ManagedTLSConfig?? {
        guard node.scalar != nil, !ConfigReader.isNull(node) else { return .none }
        let words = ManagedTLSConfig.Issuer.allCases.map(\.rawValue)
        guard let text = node.scalar?.string, let issuer = ManagedTLSConfig.Issuer(rawValue: text) else {
            let hint = Suggestion.closest(to: node.scalar?.string ?? "", in: words).map { "; did you mean '\($0)'?" } ?? ""
            error("expected 'auto', 'internal' or a mapping with 'certificate' and 'key', found \(found(node))\(hint)",
                  at: node)
            return .some(nil)
        }
        return .some(ManagedTLSConfig(issuer: issuer, location: location(node)))
    }
}
