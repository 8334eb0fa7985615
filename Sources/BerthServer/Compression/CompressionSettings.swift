import BerthConfig
import BerthStatic

/// A path's `compress:` settings as the compression filter uses them: built once per
/// configuration generation. A class: every answer on the path reads them, and passing one
/// reference costs less than copying the lists inside.
final class CompressionSettings: Sendable {
    /// Bodies compressed whole (held in memory, or read from a file) above this size go
    /// uncompressed: compressing one would hold an event loop too long. Streams have no bound,
    /// they are compressed chunk by chunk as they go.
    static let maxWholeBodyBytes: Int64 = 4 * 1024 * 1024

    /// In the server's order of preference.
    let codings: [ContentCoding]
    let brotliLevel: Int
    let gzipLevel: Int
    let minLength: Int64
    let types: MediaTypeList

    init(_ config: CompressionConfig) {
        self.codings = config.encodings.map { $0 == .br ? .brotli : .gzip }
        self.brotliLevel = config.brotliLevel
        self.gzipLevel = config.gzipLevel
        self.minLength = Int64(config.minLength)
        self.types = MediaTypeList(config.types)
    }

    /// A path's settings; nil when compression is off there, or when the path's configured
    /// headers say `Cache-Control: no-transform` (they are laid over answers after the filters).
    convenience init?(route: PathRouteConfig) {
        guard let config = route.compression else { return nil }
        let forbidden = route.headers.contains {
            $0.name.lowercased() == "cache-control" && CompressionPolicy.forbidsTransform($0.value)
        }
        if forbidden { return nil }
        self.init(config)
    }

    func level(of coding: ContentCoding) -> Int {
        coding == .brotli ? self.brotliLevel : self.gzipLevel
    }
}

/// Media types as `type/subtype`, `type/*` or `type/*+suffix` patterns (lowercase), matched
/// against a Content-Type without its parameters, case-insensitively.
struct MediaTypeList: Sendable {
    /// "text/html" for `text/html`.
    private let exact: [String]
    /// "text/" for `text/*`.
    private let anySubtype: [String]
    /// ("application/", "+json") for `application/*+json`.
    private let suffixes: [(type: String, suffix: String)]

    init(_ patterns: [String]) {
        var exact: [String] = [], anySubtype: [String] = [], suffixes: [(String, String)] = []
        for pattern in patterns {
            let parts = pattern.lowercased().split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { continue }
            if parts[1] == "*" {
                anySubtype.append(parts[0] + "/")
            } else if parts[1].hasPrefix("*+") {
                suffixes.append((parts[0] + "/", String(parts[1].dropFirst())))
            } else {
                exact.append(pattern.lowercased())
            }
        }
        self.exact = exact
        self.anySubtype = anySubtype
        self.suffixes = suffixes
    }

    /// Whether the media type of a Content-Type value (parameters and case aside) is listed.
    /// Read as bytes in place, against a list of a few dozen patterns at most: it is asked for
    /// every answer that may be compressed.
    func contains(_ contentType: String) -> Bool {
        var contentType = contentType
        return contentType.withUTF8 { bytes in
            var end = 0
            while end < bytes.count, bytes[end] != UInt8(ascii: ";") { end += 1 }
            let essence = UnsafeBufferPointer(rebasing: bytes[bytes.trimmingBlanks(0..<end)])
            func matches(_ pattern: String, at offset: Int) -> Bool {
                var pattern = pattern
                return pattern.withUTF8 { pattern in
                    offset >= 0 && offset + pattern.count <= essence.count
                        && String.asciiLowercaseEquals(UnsafeBufferPointer(rebasing: essence[offset..<(offset + pattern.count)]), pattern)
                }
            }
            if self.exact.contains(where: { $0.utf8.count == essence.count && matches($0, at: 0) }) { return true }
            if self.anySubtype.contains(where: { matches($0, at: 0) }) { return true }
            return self.suffixes.contains {
                $0.type.utf8.count + $0.suffix.utf8.count <= essence.count && matches($0.type, at: 0)
                    && matches($0.suffix, at: essence.count - $0.suffix.utf8.count)
            }
        }
    }
}
