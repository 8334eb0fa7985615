#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Publishes HTTP-01 answers (RFC 8555 §8.3) as files in a folder that a web server serves
/// at `/.well-known/acme-challenge/<token>`: in Berth, every worker reads the folder on each
/// such request. A file renamed into place is served at once by every process that reads
/// the folder, so `publish` returns when the CA may look, with nothing to acknowledge.
public struct HTTP01ChallengeFolder: ChallengeResponder {
    public let folder: String

    public init(folder: String) {
        self.folder = folder
    }

    public var supportedChallenges: Set<ACMEChallengeType> { [.http01] }

    public func publish(_ answer: ChallengeAnswer) async throws {
        guard case .http01(_, let token, let keyAuthorization) = answer else {
            throw ACMEError.noUsableChallenge(name: answer.name, offered: [answer.type.rawValue])
        }
        let path = try self.path(for: token)
        // 0755 and 0644: the workers may run as another account, and the answer is public.
        try AtomicFile.makeFolder(self.folder, mode: 0o755)
        try AtomicFile.write(Array(keyAuthorization.utf8), to: path, mode: 0o644)
    }

    public func withdraw(_ answer: ChallengeAnswer) async {
        guard case .http01(_, let token, _) = answer, let path = try? self.path(for: token) else { return }
        unlink(path)
    }

    /// Removes answers a previous coordinator left when it was killed mid-validation: they
    /// are of orders nobody waits for, and would otherwise be served for ever.
    public func removeStaleAnswers() {
        guard let folder = opendir(self.folder) else { return }
        defer { closedir(folder) }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != "..", let path = try? self.path(for: name) { unlink(path) }
        }
    }

    /// The token comes from the CA and becomes a file name: only base64url (§8.1) is taken,
    /// so no token can name a path outside the folder.
    func path(for token: String) throws -> String {
        let valid = !token.isEmpty && token.utf8.count <= 256 && token.utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard valid else {
            throw ACMEError.unexpectedResponse(status: 200, url: "challenge", detail: "token is not base64url: \(token.prefix(64))")
        }
        return self.folder + "/" + token
    }
}
