import NIOCore

@testable import BerthStatic

/// One field value through every parser of the request fields static files act on: Range,
/// If-Match / If-None-Match, the HTTP dates, If-Range and Accept-Encoding. What must hold:
/// - ranges lie within the representation, sorted, disjoint and not adjacent, at most
///   `ByteRanges.maximumRanges`, and cover exactly the bytes the request asked for
///   (RFC 9110 §14.1.2); a multipart body is as long as its announced length;
/// - entity-tags, dates and range sets read back the same after being written out;
/// - a listed tag matches whatever follows it in the list;
/// - q-values are thousandths in 0...1000, and each coding is offered once.
enum StaticFieldsFuzz {
    /// Representation sizes: empty, tiny, ordinary, and ones where arithmetic could overflow.
    static let sizes: [Int64] = [0, 1, 2, 10, 100, 1 << 20, 1 << 40, Int64.max - 1, Int64.max]

    static func run(_ input: FuzzInput) {
        let value = input.text
        for size in Self.sizes {
            Self.checkRanges(value, size: size, input)
        }
        Self.checkEntityTags(value, input)
        Self.checkDates(value, input)
        Self.checkAcceptEncoding(value, input)
    }

    // MARK: - Range

    static func checkRanges(_ value: String, size: Int64, _ input: FuzzInput) {
        let specs = ByteRanges.parse(value)
        let decision = ByteRanges.evaluate(value, size: size)
        guard let specs else {
            input.require(decision == .ignore, "an unparsable Range gives \(decision)")
            return
        }
        input.require(!specs.isEmpty, "an empty range set parsed")
        // The range set written out canonically reads back the same.
        let written = "bytes=" + specs.map { spec -> String in
            switch spec {
            case .from(let first, let last): return "\(first)-" + (last.map(String.init) ?? "")
            case .suffix(let length): return "-\(length)"
            }
        }.joined(separator: ",")
        input.require(ByteRanges.parse(written) == specs, "\(written) reads back as \(String(describing: ByteRanges.parse(written)))")

        // RFC 9110 §14.1.2, directly: the bytes each spec selects, as inclusive bounds.
        let wanted: [(Int64, Int64)] = specs.compactMap { spec in
            switch spec {
            case .from(let first, let last):
                guard first < size else { return nil }
                return (first, min(last ?? (size - 1), size - 1))
            case .suffix(let length):
                guard length > 0, size > 0 else { return nil }
                return (length >= size ? 0 : size - length, size - 1)
            }
        }
        switch decision {
        case .ignore:
            input.require(Self.union(wanted).count > ByteRanges.maximumRanges, "a valid Range with few ranges was ignored")
        case .unsatisfiable:
            input.require(wanted.isEmpty, "a satisfiable Range was answered 416")
        case .ranges(let ranges):
            input.require(!ranges.isEmpty && ranges.count <= ByteRanges.maximumRanges, "\(ranges.count) ranges")
            for (index, range) in ranges.enumerated() {
                input.require(range.first >= 0 && range.first <= range.last && range.last < size, "range \(range) outside 0..<\(size)")
                if index > 0 {
                    input.require(range.first > ranges[index - 1].last + 1, "ranges not sorted, disjoint and apart: \(ranges)")
                }
            }
            let union = Self.union(wanted)
            input.require(ranges.map { [$0.first, $0.last] } == union.map { [$0.0, $0.1] }, "ranges \(ranges) for the bytes \(union)")
            if size <= 100 { Self.checkMultipart(ranges, size: size, input) }
        }
    }

    /// The bytes covered by `intervals`, as sorted maximal runs.
    static func union(_ intervals: [(Int64, Int64)]) -> [(Int64, Int64)] {
        var runs: [(Int64, Int64)] = []
        for (first, last) in intervals.sorted(by: { $0.0 < $1.0 }) {
            if let previous = runs.last, first <= previous.1 || first - previous.1 == 1 {
                runs[runs.count - 1].1 = max(previous.1, last)
            } else {
                runs.append((first, last))
            }
        }
        return runs
    }

    static func checkMultipart(_ ranges: [ByteRange], size: Int64, _ input: FuzzInput) {
        let multipart = MultipartByteranges(boundary: "fuzzboundary", contentType: "text/plain", size: size)
        let contents = ByteBuffer(bytes: (0..<Int(size)).map { UInt8(truncatingIfNeeded: $0) })
        guard case .bytes(let body) = multipart.body(ranges, contents: contents, file: nil) else {
            input.require(false, "a multipart body from memory is not one buffer")
            return
        }
        input.require(Int64(body.readableBytes) == multipart.length(of: ranges), "the multipart body is not as long as its Content-Length")
    }

    // MARK: - Entity-tags

    static func checkEntityTags(_ value: String, _ input: FuzzInput) {
        let current = EntityTag(opaque: "fuzz", isWeak: false)
        if case .tags(let tags) = EntityTagCondition(value) {
            for tag in tags {
                input.require(tag.opaque.utf8.allSatisfy { $0 == 0x21 || (0x23...0x7E).contains($0) || $0 >= 0x80 }, "tag \(tag) has a character etagc excludes")
            }
            let written = tags.map(Self.write).joined(separator: ", ")
            if case .tags(let again) = EntityTagCondition(written) {
                input.require(again.map(Self.write) == tags.map(Self.write), "\(written) reads back as \(again)")
            } else {
                input.require(false, "a written tag list reads as *")
            }
        }
        if let tag = EntityTag.parse(Substring(value)) {
            input.require(EntityTag.parse(Substring(Self.write(tag))) == tag, "\(Self.write(tag)) does not read back")
        }
        // A tag listed first matches, whatever garbage follows it.
        input.require(EntityTagCondition("\"fuzz\", " + value).matches(current, weak: true), "a listed tag did not match")

        let headers = StaticRequestHeaders(
            ifMatch: value, ifNoneMatch: value, ifModifiedSince: value, ifUnmodifiedSince: value, ifRange: value, range: value,
            acceptEncoding: value)
        _ = Preconditions.evaluate(headers, entityTag: current, lastModified: 784_111_777)
        if Preconditions.ifRangeAllowsRange(value, entityTag: current, lastModified: 784_111_777, now: 784_111_778) {
            let date = HTTPDate.parse(String(value.trimmingSpaces()))
            input.require(EntityTag.parse(Substring(value))?.strongMatch(current) == true || date == 784_111_777, "If-Range \(value) allowed a range")
        }
    }

    static func write(_ tag: EntityTag) -> String {
        (tag.isWeak ? "W/" : "") + "\"" + tag.opaque + "\""
    }

    // MARK: - Dates

    /// 0001-01-01 and 9999-12-31T23:59:59, the years an HTTP-date can name.
    static let earliest = -62_135_596_800
    static let latest = 253_402_300_799

    static func checkDates(_ value: String, _ input: FuzzInput) {
        if let seconds = HTTPDate.parse(value) {
            input.require((Self.earliest...Self.latest).contains(seconds), "\(value) parses to \(seconds), outside the years 1 to 9999")
            let written = HTTPDate.format(seconds)
            input.require(HTTPDate.parse(written) == seconds, "\(written) does not read back as \(seconds)")
        }
        // Any second of those years survives formatting and parsing.
        var seed: UInt64 = 0
        for byte in input.bytes.prefix(8) { seed = seed << 8 | UInt64(byte) }
        let seconds = Self.earliest + Int(seed % UInt64(Self.latest - Self.earliest + 1))
        let written = HTTPDate.format(seconds)
        input.require(written.utf8.count == 29, "\(written) is not an IMF-fixdate")
        input.require(HTTPDate.parse(written) == seconds, "\(written) does not read back as \(seconds)")
    }

    // MARK: - Accept-Encoding

    static func checkAcceptEncoding(_ value: String, _ input: FuzzInput) {
        let codings = AcceptEncoding.preferredCodings(value)
        input.require(Set(codings.map(\.token)).count == codings.count, "a coding offered twice: \(codings)")
        if let quality = AcceptEncoding.parseQuality(value) {
            input.require((0...1000).contains(quality), "q=\(value) is \(quality) thousandths")
        }
    }
}
