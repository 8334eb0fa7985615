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
///
/// Every browser request carries one ("gzip, deflate, br, zstd"), so it is read as bytes, in
/// one pass and without allocating: splitting it into strings cost more than the rest of a
/// static answer together.
public struct AcceptEncoding: Sendable {
    /// q-values in thousandths of the codings named in the field, nil for one not named.
    private var brotli: Int?
    private var zstandard: Int?
    private var gzip: Int?
    /// The q-value of `*`: every coding not named gets it.
    private var wildcard: Int?
    private var identity: Int?

    /// An empty field value accepts no coding but identity; codings Berth does not know are
    /// skipped; an invalid q-value counts as 0 (the coding is not worth risking).
    public init(_ header: String) {
        var header = header
        header.withUTF8 { bytes in
            var start = 0
            while start <= bytes.count {
                let end = Self.index(of: UInt8(ascii: ","), in: bytes, from: start)
                self.read(element: start..<end, of: bytes)
                start = end + 1
            }
        }
    }

    /// One element: coding [ ";" parameters ], the last `q` parameter giving its weight.
    private mutating func read(element: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) {
        let tokenEnd = Self.index(of: UInt8(ascii: ";"), in: bytes, from: element.lowerBound, to: element.upperBound)
        let token = bytes.trimmingBlanks(element.lowerBound..<tokenEnd)
        if token.isEmpty { return }
        var quality = 1000
        var start = tokenEnd + 1
        while start <= element.upperBound {
            let end = Self.index(of: UInt8(ascii: ";"), in: bytes, from: start, to: element.upperBound)
            let equals = Self.index(of: UInt8(ascii: "="), in: bytes, from: start, to: end)
            if equals < end, Self.equals(bytes.trimmingBlanks(start..<equals), "q", in: bytes) {
                quality = Self.quality(bytes.trimmingBlanks((equals + 1)..<end), of: bytes) ?? 0
            }
            start = end + 1
        }
        if Self.equals(token, "identity", in: bytes) {
            self.identity = quality
        } else if Self.equals(token, "*", in: bytes) {
            self.wildcard = quality
        } else if Self.equals(token, "br", in: bytes) {
            self.brotli = quality
        } else if Self.equals(token, "zstd", in: bytes) {
            self.zstandard = quality
        } else if Self.equals(token, "gzip", in: bytes) || Self.equals(token, "x-gzip", in: bytes) {
            // "x-gzip" is an alias recipients ought to accept (RFC 9110 §8.4.1.3).
            self.gzip = quality
        }
    }

    /// The q-value the client gives `coding`, in thousandths (0: not acceptable).
    public func quality(of coding: ContentCoding) -> Int {
        let named: Int?
        switch coding {
        case .brotli: named = self.brotli
        case .zstandard: named = self.zstandard
        case .gzip: named = self.gzip
        }
        return named ?? self.wildcard ?? 0
    }

    /// Whether `coding` is worth sending: a coding with q=0 is not, nor one the client ranks
    /// below `identity`.
    private func accepts(_ quality: Int) -> Bool {
        quality > 0 && quality >= (self.identity ?? 0)
    }

    /// Codings of `offered` (listed in the server's order of preference) worth sending, most
    /// preferred first: by q-value, ties broken by `offered`'s order.
    public func preferred(among offered: [ContentCoding]) -> [ContentCoding] {
        // Insertion into one array: a handful of codings, asked for on every static request
        // that says Accept-Encoding.
        var ranked: [ContentCoding] = []
        ranked.reserveCapacity(offered.count)
        for coding in offered {
            let quality = self.quality(of: coding)
            guard self.accepts(quality) else { continue }
            let position = ranked.firstIndex { self.quality(of: $0) < quality } ?? ranked.endIndex
            ranked.insert(coding, at: position)
        }
        return ranked
    }

    /// The first of `preferred(among:)`, without ranking the rest.
    public func best(among offered: [ContentCoding]) -> ContentCoding? {
        var best: (coding: ContentCoding, quality: Int)?
        for coding in offered {
            let quality = self.quality(of: coding)
            guard self.accepts(quality), quality > (best?.quality ?? 0) else { continue }
            best = (coding, quality)
        }
        return best?.coding
    }

    /// Codings the client accepts among every one Berth has sidecars for, most preferred first.
    static func preferredCodings(_ header: String) -> [ContentCoding] {
        AcceptEncoding(header).preferred(among: ContentCoding.allCases)
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2),
    /// in thousandths. Anything else is invalid.
    static func parseQuality(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes in Self.quality(0..<bytes.count, of: bytes) }
    }

    private static func quality(_ range: Range<Int>, of bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let first = range.first else { return nil }
        let whole: Int
        switch bytes[first] {
        case UInt8(ascii: "0"): whole = 0
        case UInt8(ascii: "1"): whole = 1000
        default: return nil
        }
        guard range.count > 1 else { return whole }
        guard bytes[first + 1] == UInt8(ascii: "."), range.count <= 5 else { return nil }
        var fraction = 0
        var scale = 100
        for index in (first + 2)..<range.upperBound {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            fraction += Int(byte - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        let value = whole + fraction
        return value <= 1000 ? value : nil
    }

    // MARK: - Bytes

    /// Where `byte` first occurs in `start..<end`, or `end`.
    private static func index(of byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int? = nil) -> Int {
        let end = end ?? bytes.count
        var index = start
        while index < end, bytes[index] != byte { index += 1 }
        return index
    }

    /// Whether the bytes in `range` are `lowercase`, ignoring ASCII case (tokens are
    /// case-insensitive).
    private static func equals(_ range: Range<Int>, _ lowercase: StaticString, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for offset in 0..<range.count {
            let byte = bytes[range.lowerBound + offset]
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if lowered != expected[offset] { return false }
        }
        return true
    }
}
