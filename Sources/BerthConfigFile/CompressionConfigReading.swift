internal import Yams
import BerthConfig

/// `compress:` as written at one level, host or path; nil means "not set here".
struct CompressionOptions {
    var enabled: Bool?
    var encodings: [CompressionConfig.Encoding]?
    var brotliLevel: Int?
    var gzipLevel: Int?
    var minLength: Int?
    var types: [String]?

    /// These options, with anything not set here taken from `inherited`.
    func inheriting(_ inherited: CompressionOptions) -> CompressionOptions {
        CompressionOptions(
            enabled: enabled ?? inherited.enabled,
            encodings: encodings ?? inherited.encodings,
            brotliLevel: brotliLevel ?? inherited.brotliLevel,
            gzipLevel: gzipLevel ?? inherited.gzipLevel,
            minLength: minLength ?? inherited.minLength,
            types: types ?? inherited.types)
    }

    /// The settings a path ends up with; nil when compression is off there. On by default.
    var config: CompressionConfig? {
        guard enabled ?? true else { return nil }
        let defaults = CompressionConfig()
        return CompressionConfig(
            encodings: encodings ?? defaults.encodings,
            brotliLevel: brotliLevel ?? defaults.brotliLevel,
            gzipLevel: gzipLevel ?? defaults.gzipLevel,
            minLength: minLength ?? defaults.minLength,
            types: types ?? defaults.types)
    }
}

extension ConfigReader {
    static let compressionKeys = ["encodings", "level", "min_length", "types"]

    /// `off`, `on`, or a mapping (which turns compression on).
    func readCompression(_ node: Node) -> CompressionOptions {
        let expected = "off, on or a mapping like { level: { gzip: 5 } }"
        if let text = node.scalar?.string, !ConfigReader.isNull(node) {
            switch text {
            case "off", "false", "Off", "OFF", "False", "FALSE": return CompressionOptions(enabled: false)
            case "on", "true", "On", "ON", "True", "TRUE": return CompressionOptions(enabled: true)
            default:
                error("expected \(expected), found \(found(node))", at: node)
                return CompressionOptions()
            }
        }
        guard let fields = fields(of: node, expected: expected, context: "in 'compress'",
                                  allowed: ConfigReader.compressionKeys)
        else { return CompressionOptions() }
        var options = CompressionOptions(enabled: true)
        for entry in fields.entries {
            switch entry.key {
            case "encodings": options.encodings = encodings(entry.value)
            case "level": (options.brotliLevel, options.gzipLevel) = levels(entry.value)
            case "min_length": options.minLength = size(entry.value, minimum: 0)
            case "types": options.types = mediaTypePatterns(entry.value)
            default: break
            }
        }
        return options
    }

    /// An encoding Berth produces, by name; others are named in the error with what to use.
    private func encoding(_ node: Node, name: String) -> CompressionConfig.Encoding? {
        if let encoding = CompressionConfig.Encoding(rawValue: name) { return encoding }
        let known = CompressionConfig.Encoding.allCases.map(\.rawValue)
        var hint = Suggestion.hint(for: name, in: known, listing: "known encodings")
        if name == "zstd" {
            hint = "; Berth compresses with br and gzip (zstd is served from .zst sidecar files only)"
        }
        error("unknown encoding '\(name)'\(hint)", at: node)
        return nil
    }

    private func encodings(_ node: Node) -> [CompressionConfig.Encoding]? {
        let items: [Node]
        if case .sequence(let list) = node { items = Array(list) } else { items = [node] }
        guard !items.isEmpty else {
            error("expected a list of encodings like [br, gzip] (or 'compress: off')", at: node)
            return nil
        }
        var encodings: [CompressionConfig.Encoding] = []
        var valid = true
        for item in items {
            guard let name = string(item, expected: "an encoding: br or gzip"),
                  let encoding = encoding(item, name: name)
            else {
                valid = false
                continue
            }
            guard !encodings.contains(encoding) else {
                error("encoding '\(name)' is listed twice", at: item)
                valid = false
                continue
            }
            encodings.append(encoding)
        }
        return valid ? encodings : nil
    }

    private func levels(_ node: Node) -> (brotli: Int?, gzip: Int?) {
        var brotli: Int?, gzip: Int?
        for entry in entries(of: node, expected: "a mapping of encodings to levels like { br: 4, gzip: 5 }") ?? [] {
            guard let encoding = encoding(entry.keyNode, name: entry.key) else { continue }
            let range = encoding.levels
            let level = integer(entry.value, in: range,
                                expected: "a \(encoding.rawValue) level from \(range.lowerBound) to \(range.upperBound)")
            switch encoding {
            case .br: brotli = level
            case .gzip: gzip = level
            }
        }
        return (brotli, gzip)
    }

    /// `type/subtype`, `type/*` or `type/*+suffix`, each part an HTTP token, lowercased.
    private func mediaTypePatterns(_ node: Node) -> [String]? {
        guard let items = sequence(node, expected: "a list of media types like [text/*, application/json]")
        else { return nil }
        var patterns: [String] = []
        for item in items {
            let expected = "a media type like text/html, text/* or application/*+json"
            guard let text = string(item, expected: expected) else { continue }
            let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            let plain = { (part: Substring) in
                !part.isEmpty && !part.contains("*") && part.allSatisfy(\.isHTTPTokenCharacter)
            }
            let subtype = parts.count == 2 ? parts[1] : ""
            guard parts.count == 2, plain(parts[0]),
                  subtype == "*" || plain(subtype.hasPrefix("*+") ? subtype.dropFirst(2) : subtype)
            else {
                error("expected \(expected), found '\(text)'", at: item)
                continue
            }
            patterns.append(text.lowercased())
        }
        return patterns.count == items.count ? patterns : nil
    }
}
