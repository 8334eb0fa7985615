/// A request-target split into its path, query and (for absolute-form) authority.
///
/// This is the one place in Berth where a path is percent-decoded and dot segments are removed
/// (RFC 3986 §5.2.4). Everything downstream — routing, static files, apps — sees only the
/// result, so a path is never decoded twice and `..` can never reappear after a check.
///
/// Accepted shapes (RFC 9112 §3.2):
/// - origin-form `"/a/b?q"` (§3.2.1)
/// - absolute-form `"http://host:port/a?q"` (§3.2.2), which every server must accept
///
/// `"*"` (asterisk-form, OPTIONS only) and authority-form (CONNECT only) are refused as
/// ``RequestTargetError/notOriginForm``: Berth has no resource they could name.
public struct RequestTarget: Sendable, Equatable {
    /// Decoded and normalized: starts with `"/"`, keeps a trailing `"/"`, has no empty, `"."` or
    /// `".."` segments.
    public var path: String
    /// Raw, not decoded, without the `"?"`.
    public var query: String?
    /// `host[:port]` of an absolute-form target, else nil.
    public var authority: String?

    public init(path: String, query: String? = nil, authority: String? = nil) {
        self.path = path
        self.query = query
        self.authority = authority
    }

    public static func parse(_ raw: String) -> Result<RequestTarget, RequestTargetError> {
        if let plain = self.parsePlain(raw) { return .success(plain) }
        var bytes = Array(raw.utf8)
        if bytes.isEmpty { return .failure(.empty) }
        // Raw control characters are never valid in a request-target (RFC 3986 §2 has no
        // production for them); refusing them here also keeps them out of logs.
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return .failure(.controlCharacter) }

        // A fragment is not part of a request-target (RFC 9112 §3.2); like nginx, drop it.
        if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { bytes.removeSubrange(hash...) }

        var authority: String?
        var pathStart = 0
        if bytes.first != UInt8(ascii: "/") {
            guard let (host, rest) = splitAbsoluteForm(bytes) else { return .failure(.notOriginForm) }
            authority = host
            pathStart = rest
        }

        let queryStart = bytes[pathStart...].firstIndex(of: UInt8(ascii: "?"))
        let rawPath = bytes[pathStart..<(queryStart ?? bytes.endIndex)]
        let query = queryStart.map { String(decoding: bytes[($0 + 1)...], as: UTF8.self) }

        if rawPath.contains(UInt8(ascii: "\\")) { return .failure(.backslash) }
        let decoded: [UInt8]
        switch percentDecode(rawPath) {
        case .success(let value): decoded = value
        case .failure(let error): return .failure(error)
        }
        // An absolute-form target with an empty path means "/" (RFC 9110 §4.2.3).
        let normalizedPath: String
        switch removeDotSegments(decoded.isEmpty ? [UInt8(ascii: "/")] : decoded) {
        case .success(let value): normalizedPath = value
        case .failure(let error): return .failure(error)
        }
        return .success(RequestTarget(path: normalizedPath, query: query, authority: authority))
    }

    /// The common case without copying: an origin-form target that is already normal — plain
    /// ASCII, no `%`, `\\`, `#` or control bytes, no empty, `.` or `..` segments. Its path needs
    /// no decoding and no dot-segment removal, so it is its own result. Nil sends the target
    /// through the full parse.
    private static func parsePlain(_ raw: String) -> RequestTarget? {
        var queryStart: String.UTF8View.Index?
        var previous: UInt8 = 0
        let utf8 = raw.utf8
        guard utf8.first == UInt8(ascii: "/") else { return nil }
        for index in utf8.indices {
            let byte = utf8[index]
            if byte == UInt8(ascii: "?") {
                queryStart = index
                break
            }
            switch byte {
            case 0..<0x21, 0x7F...0xFF, UInt8(ascii: "%"), UInt8(ascii: "\\"), UInt8(ascii: "#"):
                return nil
            case UInt8(ascii: "/") where previous == UInt8(ascii: "/"):
                return nil
            case UInt8(ascii: ".") where previous == UInt8(ascii: "/"):
                return nil
            default:
                previous = byte
            }
        }
        guard let queryStart else { return RequestTarget(path: raw) }
        let rest = utf8[utf8.index(after: queryStart)...]
        // The query keeps its raw form, but control bytes and fragments still take the full parse.
        guard !rest.contains(where: { $0 < 0x21 || $0 == 0x7F || $0 == UInt8(ascii: "#") }) else { return nil }
        return RequestTarget(path: String(raw[..<queryStart]), query: String(raw[utf8.index(after: queryStart)...]))
    }

    /// Splits `scheme://authority[/path...]` and returns the authority plus the index where the
    /// path (or query) starts. Only `http` and `https` name resources Berth serves
    /// (RFC 9110 §4.2); userinfo is refused because it is deprecated there (§4.2.4).
    private static func splitAbsoluteForm(_ bytes: [UInt8]) -> (String, Int)? {
        let text = String(decoding: bytes, as: UTF8.self)
        let lower = text.lowercased()
        let schemeLength: Int
        if lower.hasPrefix("http://") {
            schemeLength = 7
        } else if lower.hasPrefix("https://") {
            schemeLength = 8
        } else {
            return nil
        }
        var end = schemeLength
        while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?") {
            end += 1
        }
        let host = bytes[schemeLength..<end]
        let allowed: (UInt8) -> Bool = { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return Array("-._~:[]!$&'()*+,;=%".utf8).contains(byte)
            }
        }
        guard !host.isEmpty, host.allSatisfy(allowed) else { return nil }
        return (String(decoding: host, as: UTF8.self), end)
    }

    /// Decodes every `%XX` exactly once, so `%252e` becomes the literal name `%2e`.
    private static func percentDecode(_ raw: ArraySlice<UInt8>) -> Result<[UInt8], RequestTargetError> {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            var byte = raw[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < raw.endIndex,
                    let high = hexValue(raw[index + 1]), let low = hexValue(raw[index + 2])
                else {
                    return .failure(.badPercentEncoding)
                }
                byte = high << 4 | low
                index += 3
            } else {
                index += 1
            }
            switch byte {
            case 0: return .failure(.nulByte)
            case UInt8(ascii: "\\"): return .failure(.backslash)
            case 0x01..<0x20, 0x7F: return .failure(.controlCharacter)
            default: out.append(byte)
            }
        }
        // File names and routes are Unicode text; bytes that are not UTF-8 cannot name either.
        guard String(validating: out, as: UTF8.self) != nil else { return .failure(.badPercentEncoding) }
        return .success(out)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// RFC 3986 §5.2.4 on an already decoded path, plus collapsing of empty segments (`"//"`).
    /// A `".."` that would climb above `"/"` is an error rather than silently dropped, so a
    /// traversal attempt is visible (and answered with 400) instead of served from the root.
    private static func removeDotSegments(_ path: [UInt8]) -> Result<String, RequestTargetError> {
        var segments: [ArraySlice<UInt8>] = []
        var trailingSlash = false
        for segment in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            trailingSlash = false
            if segment.isEmpty {
                trailingSlash = true
            } else if segment.elementsEqual([UInt8(ascii: ".")]) {
                trailingSlash = true
            } else if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                guard !segments.isEmpty else { return .failure(.escapesRoot) }
                segments.removeLast()
                trailingSlash = true
            } else {
                segments.append(segment)
            }
        }
        var out: [UInt8] = [UInt8(ascii: "/")]
        for (position, segment) in segments.enumerated() {
            if position > 0 { out.append(UInt8(ascii: "/")) }
            out.append(contentsOf: segment)
        }
        if trailingSlash && !segments.isEmpty { out.append(UInt8(ascii: "/")) }
        return .success(String(decoding: out, as: UTF8.self))
    }
}

/// Why a request-target was refused; every case maps to 400 Bad Request.
public enum RequestTargetError: Error, Equatable, Sendable {
    case empty
    /// `"*"`, authority-form, an unsupported scheme, or garbage.
    case notOriginForm
    /// `%` not followed by two hex digits, or decoded bytes that are not UTF-8.
    case badPercentEncoding
    case nulByte
    /// Raw or encoded `"\"`: some file systems and clients treat it as a separator.
    case backslash
    /// A `".."` segment (in any encoding) that would climb above `"/"`.
    case escapesRoot
    case controlCharacter
}
