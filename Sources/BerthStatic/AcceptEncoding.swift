/// The content codings Berth serves from precompressed sidecar files.
enum ContentCoding: CaseIterable, Sendable {
    // Declaration order is the server's preference among equally acceptable codings:
    // smallest output first.
    case brotli, zstandard, gzip

    /// The token for Content-Encoding (RFC 9110 §8.4.1; `br` is RFC 7932, `zstd` RFC 8878).
    var token: String {
        switch self {
        case .brotli: return "br"
        case .zstandard: return "zstd"
        case .gzip: return "gzip"
        }
    }

    /// Sidecar file suffix, as the usual compressors name their output.
    var fileSuffix: String {
        switch self {
        case .brotli: return ".br"
        case .zstandard: return ".zst"
        case .gzip: return ".gz"
        }
    }

    /// Appended to the sidecar's ETag so each representation has its own validator
    /// (RFC 9110 §8.8.3: different encodings are different representations).
    var entityTagSuffix: String {
        switch self {
        case .brotli: return "br"
        case .zstandard: return "zst"
        case .gzip: return "gz"
        }
    }
}

/// Accept-Encoding (RFC 9110 §12.5.3).
enum AcceptEncoding {
    /// Codings the client accepts, most preferred first: by q-value, then by server preference.
    /// A coding with q=0 is excluded; `*` gives its q-value to codings not listed by name.
    /// When the client lists `identity` with a higher q-value than a coding, that coding is
    /// not worth serving.
    static func preferredCodings(_ header: String) -> [ContentCoding] {
        var named: [ContentCoding: Int] = [:]
        var wildcard: Int?
        var identity: Int?
        for element in header.split(separator: ",") {
            let parameters = element.split(separator: ";")
            guard let first = parameters.first else { continue }
            let coding = first.trimmingSpaces().lowercased()
            if coding.isEmpty { continue }
            var quality = 1000
            for parameter in parameters.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingSpaces().lowercased() == "q" else { continue }
                quality = parseQuality(String(pair[1].trimmingSpaces())) ?? 0
            }
            switch coding {
            case "br": named[.brotli] = quality
            case "zstd": named[.zstandard] = quality
            // "x-gzip" is an alias of gzip that recipients ought to accept (RFC 9110 §8.4.1.3).
            case "gzip", "x-gzip": named[.gzip] = quality
            case "identity": identity = quality
            case "*": wildcard = quality
            default: continue
            }
        }
        let floor = identity ?? 0
        var ranked: [(ContentCoding, Int)] = []
        for coding in ContentCoding.allCases {
            guard let quality = named[coding] ?? wildcard, quality > 0, quality >= floor else { continue }
            ranked.append((coding, quality))
        }
        // Stable by declaration order among equal q-values.
        return ranked.enumerated()
            .sorted { ($0.element.1, -$0.offset) > ($1.element.1, -$1.offset) }
            .map { $0.element.0 }
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2),
    /// in thousandths. Anything else is invalid.
    static func parseQuality(_ text: String) -> Int? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole == "0" || whole == "1" else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= 3, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        fraction += String(repeating: "0", count: 3 - fraction.count)
        let value = (whole == "1" ? 1000 : 0) + Int(fraction)!
        return value <= 1000 ? value : nil
    }
}
