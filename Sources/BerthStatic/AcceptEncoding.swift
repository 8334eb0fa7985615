/// The content codings Berth knows: served from precompressed sidecar files, and (Brotli and
/// gzip) produced on the fly by the server's compression filter.
public enum ContentCoding: CaseIterable, Sendable, Hashable {
    // Declaration order is the server's preference among equally acceptable sidecars:
    // smallest output first.
    case brotli, zstandard, gzip

    /// The token for Content-Encoding (RFC 9110 §8.4.1; `br` is RFC 7932, `zstd` RFC 8878).
    public var token: String {
        switch self {
        case .brotli: return "br"
        case .zstandard: return "zstd"
        case .gzip: return "gzip"
        }
    }

    /// The coding a token names, case-insensitively; "x-gzip" is an alias of gzip that
    /// recipients ought to accept (RFC 9110 §8.4.1.3).
    public init?(token: some StringProtocol) {
        switch token.lowercased() {
        case "br": self = .brotli
        case "zstd": self = .zstandard
        case "gzip", "x-gzip": self = .gzip
        default: return nil
        }
    }

    /// The codings the server's compression filter produces; If-None-Match recognizes the
    /// entity-tags of their variants.
    public static let producedOnTheFly: [ContentCoding] = [.brotli, .gzip]

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

/// Accept-Encoding (RFC 9110 §12.5.3), parsed once per request.
public struct AcceptEncoding: Sendable {
    /// q-values in thousandths, of codings named in the field.
    private var named: [ContentCoding: Int] = [:]
    /// The q-value of `*`: every coding not named gets it.
    private var wildcard: Int?
    private var identity: Int?

    /// An empty field value accepts no coding but identity; codings Berth does not know are
    /// skipped; an invalid q-value counts as 0 (the coding is not worth risking).
    public init(_ header: some StringProtocol) {
        for element in header.split(separator: ",") {
            let parameters = element.split(separator: ";")
            guard let first = parameters.first else { continue }
            let token = first.trimmingSpaces().lowercased()
            if token.isEmpty { continue }
            var quality = 1000
            for parameter in parameters.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingSpaces().lowercased() == "q" else { continue }
                quality = Self.parseQuality(String(pair[1].trimmingSpaces())) ?? 0
            }
            switch token {
            case "identity": identity = quality
            case "*": wildcard = quality
            default:
                if let coding = ContentCoding(token: token) { named[coding] = quality }
            }
        }
    }

    /// The q-value the client gives `coding`, in thousandths (0: not acceptable).
    public func quality(of coding: ContentCoding) -> Int {
        named[coding] ?? wildcard ?? 0
    }

    /// Codings of `offered` (listed in the server's order of preference) worth sending, most
    /// preferred first: by q-value, ties broken by `offered`'s order. A coding with q=0 is
    /// excluded, and so is one the client ranks below `identity`.
    public func preferred(among offered: [ContentCoding]) -> [ContentCoding] {
        let floor = identity ?? 0
        var ranked: [(coding: ContentCoding, quality: Int, order: Int)] = []
        for (order, coding) in offered.enumerated() {
            let quality = quality(of: coding)
            guard quality > 0, quality >= floor else { continue }
            ranked.append((coding, quality, order))
        }
        return ranked.sorted { ($0.quality, -$0.order) > ($1.quality, -$1.order) }.map(\.coding)
    }

    /// Codings the client accepts among every one Berth has sidecars for, most preferred first.
    static func preferredCodings(_ header: String) -> [ContentCoding] {
        AcceptEncoding(header).preferred(among: ContentCoding.allCases)
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
