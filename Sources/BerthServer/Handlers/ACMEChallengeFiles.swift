import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NIOCore
import NIOHTTP1

/// HTTP-01 answers (RFC 8555 §8.3) as the certificate coordinator publishes them: one file
/// per token, named by the token, holding the key authorization.
///
/// The coordinator and the workers share a folder rather than a message channel: a file
/// renamed into place is visible to every worker at once, to workers started later (a
/// replacement after a crash, a new generation after a reload) and to none after it is
/// removed, so "published" means "the CA can fetch it now" with no acknowledgement from each
/// worker. Only requests under `/.well-known/acme-challenge/` with a well-formed token ever
/// touch the folder.
struct ACMEChallengeFiles: Sendable {
    let folder: String

    static let prefix = HTTPSRedirect.exemptPrefix
    /// Tokens are base64url (§8.1: at least 128 bits of entropy); CAs send 43 characters.
    static let maximumTokenLength = 256
    /// A key authorization is a token, a dot and a 43-character thumbprint.
    static let maximumAnswerBytes = 1024

    /// The answer for `path`, or nil when it is no published token's: the request then goes
    /// through routing as any other.
    func answer(path: String, method: HTTPMethod) -> ResponseMessage? {
        guard path.hasPrefix(Self.prefix), method == .GET || method == .HEAD else { return nil }
        let token = String(path.dropFirst(Self.prefix.count))
        guard !token.isEmpty, token.utf8.count <= Self.maximumTokenLength, token.utf8.allSatisfy(Self.isBase64URL),
              let body = self.read(token)
        else { return nil }
        return ResponseMessage(status: 200, fields: [
            ("Content-Type", "application/octet-stream"), ("Content-Length", "\(body.readableBytes)"),
            ("Cache-Control", "no-store"),
        ], body: .bytes(body))
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// A small file read whole; nil when missing. O_NOFOLLOW: the folder holds regular files
    /// the coordinator wrote, never links.
    private func read(_ token: String) -> ByteBuffer? {
        let fd = open(self.folder + "/" + token, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: Self.maximumAnswerBytes + 1)
        var count = 0
        while count < bytes.count {
            let result = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if result < 0 && errno == EINTR { continue }
            guard result >= 0 else { return nil }
            if result == 0 { break }
            count += result
        }
        guard count > 0, count <= Self.maximumAnswerBytes else { return nil }
        return ByteBuffer(bytes: bytes[..<count])
    }
}
