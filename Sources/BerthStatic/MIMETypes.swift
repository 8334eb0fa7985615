/// File-extension → media-type table (RFC 9110 §8.3), built once and then only read.
///
/// Textual types carry `charset=utf-8` so browsers never sniff an encoding; types with no
/// entry are `application/octet-stream`, which browsers download instead of rendering
/// (the safe default for unknown content, RFC 9110 §8.3).
public struct MIMETypes: Sendable {
    public static let fallback = "application/octet-stream"

    /// The common web types.
    public static let standard = MIMETypes(standardTable)

    private let table: [String: String]

    /// `table` maps a lowercase extension without the dot to a complete media type.
    public init(_ table: [String: String]) {
        var lowered: [String: String] = [:]
        for (ext, type) in table { lowered[ext.lowercased()] = type }
        self.table = lowered
    }

    /// A copy where `overrides` (extension → media type) replace or add entries.
    public func overriding(with overrides: [String: String]) -> MIMETypes {
        var merged = table
        for (ext, type) in overrides { merged[ext.lowercased()] = type }
        return MIMETypes(merged)
    }

    /// `forExtension` is matched case-insensitively, with or without a leading dot.
    public func type(forExtension ext: String) -> String {
        var key = ext.lowercased()
        if key.hasPrefix(".") { key.removeFirst() }
        return table[key] ?? Self.fallback
    }

    /// The type for the last path segment's extension (`"a/b.tar.GZ"` → `gz`). A name with no
    /// dot after its first character has no extension.
    public func type(forPath path: some StringProtocol) -> String {
        // Scans back from the end once (this runs per request): no splitting, and no
        // lowercased copy for the usual lowercase extension.
        let name = Substring(path)
        let utf8 = name.utf8
        var index = utf8.endIndex
        while index > utf8.startIndex {
            let previous = utf8.index(before: index)
            let byte = utf8[previous]
            if byte == UInt8(ascii: "/") { return Self.fallback }
            if byte == UInt8(ascii: ".") {
                // A leading dot names a hidden file, not an extension.
                guard previous != utf8.startIndex, utf8[utf8.index(before: previous)] != UInt8(ascii: "/") else {
                    return Self.fallback
                }
                let ext = name[index...]
                if ext.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
                    return table[ext.lowercased()] ?? Self.fallback
                }
                return table[String(ext)] ?? Self.fallback
            }
            index = previous
        }
        return Self.fallback
    }

    private static let utf8 = "; charset=utf-8"

    private static let standardTable: [String: String] = [
        // Documents and code
        "html": "text/html" + utf8,
        "htm": "text/html" + utf8,
        "shtml": "text/html" + utf8,
        "xhtml": "application/xhtml+xml" + utf8,
        "css": "text/css" + utf8,
        // RFC 9239 makes text/javascript the one JavaScript type.
        "js": "text/javascript" + utf8,
        "mjs": "text/javascript" + utf8,
        "cjs": "text/javascript" + utf8,
        "json": "application/json" + utf8,
        "map": "application/json" + utf8,
        "jsonld": "application/ld+json" + utf8,
        "webmanifest": "application/manifest+json" + utf8,
        "xml": "application/xml" + utf8,
        "xsl": "application/xml" + utf8,
        "rss": "application/rss+xml" + utf8,
        "atom": "application/atom+xml" + utf8,
        "txt": "text/plain" + utf8,
        "text": "text/plain" + utf8,
        "md": "text/markdown" + utf8,
        "markdown": "text/markdown" + utf8,
        "csv": "text/csv" + utf8,
        "tsv": "text/tab-separated-values" + utf8,
        "ics": "text/calendar" + utf8,
        "vtt": "text/vtt" + utf8,
        "yaml": "application/yaml" + utf8,
        "yml": "application/yaml" + utf8,
        "wasm": "application/wasm",
        "pdf": "application/pdf",
        "epub": "application/epub+zip",
        // Images
        "png": "image/png",
        "apng": "image/apng",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "avif": "image/avif",
        "jxl": "image/jxl",
        "heic": "image/heic",
        "svg": "image/svg+xml" + utf8,
        "svgz": "image/svg+xml",
        "ico": "image/x-icon",
        "bmp": "image/bmp",
        "tif": "image/tiff",
        "tiff": "image/tiff",
        // Fonts
        "woff": "font/woff",
        "woff2": "font/woff2",
        "ttf": "font/ttf",
        "otf": "font/otf",
        "eot": "application/vnd.ms-fontobject",
        // Audio and video
        "mp3": "audio/mpeg",
        "m4a": "audio/mp4",
        "aac": "audio/aac",
        "oga": "audio/ogg",
        "ogg": "audio/ogg",
        "opus": "audio/ogg",
        "wav": "audio/wav",
        "flac": "audio/flac",
        "weba": "audio/webm",
        "mp4": "video/mp4",
        "m4v": "video/mp4",
        "webm": "video/webm",
        "ogv": "video/ogg",
        "mov": "video/quicktime",
        "mpeg": "video/mpeg",
        "mpg": "video/mpeg",
        "m3u8": "application/vnd.apple.mpegurl",
        "ts": "video/mp2t",
        // Archives and binaries
        "zip": "application/zip",
        "gz": "application/gzip",
        "tgz": "application/gzip",
        "bz2": "application/x-bzip2",
        "xz": "application/x-xz",
        "zst": "application/zstd",
        "br": "application/octet-stream",
        "tar": "application/x-tar",
        "7z": "application/x-7z-compressed",
        "rar": "application/vnd.rar",
        "deb": "application/vnd.debian.binary-package",
        "dmg": "application/x-apple-diskimage",
        "iso": "application/x-iso9660-image",
        "bin": "application/octet-stream",
        "exe": "application/octet-stream",
    ]
}
