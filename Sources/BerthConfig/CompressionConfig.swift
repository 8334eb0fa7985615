/// Compressing answers on the fly: the `compress:` key of a host or a path. On by default for
/// text-like media types; it applies to whatever answers the path (static files without a
/// precompressed sidecar, apps, whole or streamed, error pages, directory listings), over
/// HTTP/1.1 and HTTP/2 alike, to clients that send `Accept-Encoding`.
///
/// ```yaml
/// compress: off                        # nothing of this host or path is compressed
/// compress:
///   encodings: [br, gzip]              # offered in this order of preference (br, gzip)
///   level: { br: 4, gzip: 5 }          # br 0...11, gzip 1...9
///   min_length: 256                    # smaller bodies go as they are; a size like 1KiB
///   types: [text/*, application/json]  # replaces the default list; type/*, type/*+suffix
/// ```
/// A path's `compress:` mapping is laid over its host's key by key; a mapping (or `on`) turns
/// compression on where the host has it off. Not compressed, whatever the settings: answers
/// that carry `Content-Encoding` already (sidecars), `206` range answers (ranges are of the
/// uncompressed file), `Cache-Control: no-transform`, bodies held whole in memory or read from
/// a file above 4 MiB (streams of any length are compressed chunk by chunk).
/// zstd is served from `.zst` sidecars only: the system's libzstd comes without headers.
public struct CompressionConfig: Sendable, Equatable, Codable {
    public enum Encoding: String, Sendable, Equatable, Codable, CaseIterable {
        case br, gzip

        /// Levels the encoder accepts: Brotli's quality 0...11, zlib's 1...9 (0 would store).
        public var levels: ClosedRange<Int> {
            switch self {
            case .br: return 0...11
            case .gzip: return 1...9
            }
        }
    }

    /// Media types worth compressing: text, and the formats that are text in disguise (JSON,
    /// JavaScript, XML, SVG), WebAssembly, and fonts without a compression of their own
    /// (TrueType, OpenType, EOT; WOFF and WOFF2 are compressed already).
    public static let defaultTypes = [
        "text/*", "application/json", "application/*+json", "application/javascript", "application/x-javascript",
        "application/xml", "application/*+xml", "image/svg+xml", "application/wasm", "font/otf", "font/ttf",
        "application/vnd.ms-fontobject",
    ]

    /// In the server's order of preference; never empty.
    public var encodings: [Encoding]
    public var brotliLevel: Int
    public var gzipLevel: Int
    /// Bodies shorter than this many bytes are sent uncompressed.
    public var minLength: Int
    /// `type/subtype`, `type/*` or `type/*+suffix`, lowercased; parameters are not compared.
    public var types: [String]

    public init(encodings: [Encoding] = [.br, .gzip], brotliLevel: Int = 4, gzipLevel: Int = 5, minLength: Int = 256,
                types: [String] = CompressionConfig.defaultTypes) {
        self.encodings = encodings
        self.brotliLevel = brotliLevel
        self.gzipLevel = gzipLevel
        self.minLength = minLength
        self.types = types
    }

    public func level(_ encoding: Encoding) -> Int {
        encoding == .br ? brotliLevel : gzipLevel
    }
}
