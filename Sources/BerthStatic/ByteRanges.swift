import NIOCore

/// A byte range within a representation, both ends inclusive as in Content-Range.
struct ByteRange: Equatable, Sendable {
    var first: Int64
    var last: Int64

    var count: Int64 { last - first + 1 }

    /// `a-b/N` for Content-Range (RFC 9110 §14.4).
    func contentRange(size: Int64) -> String {
        "bytes \(first)-\(last)/\(size)"
    }
}

/// What a Range header asks of a representation of `size` bytes (RFC 9110 §14.2).
enum RangeDecision: Equatable {
    /// Send the whole representation with 200: no usable Range.
    case ignore
    /// 416 with `Content-Range: bytes */size`.
    case unsatisfiable
    /// 206: one range, or several (sorted, coalesced) for multipart/byteranges.
    case ranges([ByteRange])
}

enum ByteRanges {
    /// More ranges than this after coalescing are a resource-exhaustion pattern (RFC 9110
    /// §14.2, "many small ranges"), not a real client: the whole file is cheaper to send.
    static let maximumRanges = 16

    static func evaluate(_ header: String, size: Int64) -> RangeDecision {
        guard let specs = parse(header) else { return .ignore }
        var ranges: [ByteRange] = []
        for spec in specs {
            switch spec {
            case .from(let first, let last):
                // §14.1.2: a first-pos beyond the end is unsatisfiable; a last-pos beyond the
                // end means "to the end".
                guard first < size else { continue }
                ranges.append(ByteRange(first: first, last: min(last ?? size - 1, size - 1)))
            case .suffix(let length):
                // §14.1.3: a zero suffix-length selects nothing.
                guard length > 0, size > 0 else { continue }
                ranges.append(ByteRange(first: max(0, size - length), last: size - 1))
            }
        }
        // §14.1.1: satisfiable only if at least one range is.
        if ranges.isEmpty { return .unsatisfiable }
        let merged = coalesce(ranges)
        return merged.count > maximumRanges ? .ignore : .ranges(merged)
    }

    /// §14.6 allows coalescing overlapping ranges and ranges with a small gap, whatever their
    /// order in the request; adjacent ranges are merged too, and the result is sorted.
    static func coalesce(_ ranges: [ByteRange]) -> [ByteRange] {
        var out: [ByteRange] = []
        for range in ranges.sorted(by: { $0.first < $1.first }) {
            if let previous = out.last, range.first <= previous.last + 1 {
                out[out.count - 1].last = max(previous.last, range.last)
            } else {
                out.append(range)
            }
        }
        return out
    }

    enum Spec: Equatable {
        case from(Int64, Int64?)
        case suffix(Int64)
    }

    /// `Range: bytes=range-set` (§14.1.2). Another unit or invalid syntax gives nil, so the
    /// field is ignored (§14.2: a server that does not support a unit ignores it; an invalid
    /// ranges-specifier is not valid "according to that range-unit").
    static func parse(_ header: String) -> [Spec]? {
        let value = header.trimmingSpaces()
        guard value.count > 6, value.prefix(6).lowercased() == "bytes=" else { return nil }
        var specs: [Spec] = []
        // range-set = 1#range-spec: empty list elements and OWS are allowed (§5.6.1).
        for element in value.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false) {
            let item = element.trimmingSpaces()
            if item.isEmpty { continue }
            guard let dash = item.firstIndex(of: "-") else { return nil }
            let firstText = item[..<dash]
            let lastText = item[item.index(after: dash)...]
            if firstText.isEmpty {
                guard let length = number(lastText) else { return nil }
                specs.append(.suffix(length))
            } else {
                guard let first = number(firstText) else { return nil }
                if lastText.isEmpty {
                    specs.append(.from(first, nil))
                } else {
                    // §14.1.1: last-pos below first-pos makes the whole field invalid.
                    guard let last = number(lastText), last >= first else { return nil }
                    specs.append(.from(first, last))
                }
            }
        }
        return specs.isEmpty ? nil : specs
    }

    /// 1*DIGIT; values beyond Int64 saturate (they are past any file's end anyway).
    private static func number(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        var value: Int64 = 0
        for digit in text.utf8 {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit - 0x30))
            if overflow1 || overflow2 { return Int64.max }
            value = sum
        }
        return value
    }
}

/// multipart/byteranges framing (RFC 9110 §14.6, RFC 2046 §5.1.1).
struct MultipartByteranges {
    let boundary: String
    let contentType: String
    let size: Int64

    /// 24 random hex digits: never found in part headers, and unguessable so content cannot
    /// be crafted to contain it.
    static func randomBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt32
        let text = String(high, radix: 16) + String(low, radix: 16)
        return String(repeating: "0", count: max(0, 24 - text.count)) + text
    }

    var mediaType: String { "multipart/byteranges; boundary=" + boundary }

    /// Delimiter and part header written before the part's bytes. The first part has no
    /// leading CRLF, as in the example of RFC 9110 §14.6.
    func partHeader(_ range: ByteRange, isFirst: Bool) -> String {
        (isFirst ? "" : "\r\n") + "--" + boundary + "\r\n"
            + "Content-Type: " + contentType + "\r\n"
            + "Content-Range: " + range.contentRange(size: size) + "\r\n\r\n"
    }

    var closingDelimiter: String { "\r\n--" + boundary + "--\r\n" }

    /// The multipart body; part contents come from memory when `contents` is given, else as
    /// file segments of `file`.
    func body(_ ranges: [ByteRange], contents: ByteBuffer?, file: OpenFile?) -> StaticBody {
        if let contents {
            var buffer = ByteBufferAllocator().buffer(capacity: Int(length(of: ranges)))
            for (index, range) in ranges.enumerated() {
                buffer.writeString(partHeader(range, isFirst: index == 0))
                var slice = contents.getSlice(at: contents.readerIndex + Int(range.first), length: Int(range.count))!
                buffer.writeBuffer(&slice)
            }
            buffer.writeString(closingDelimiter)
            return .bytes(buffer)
        }
        var parts: [StaticBodyPart] = []
        for (index, range) in ranges.enumerated() {
            parts.append(.bytes(ByteBuffer(string: partHeader(range, isFirst: index == 0))))
            parts.append(.file(file!, offset: range.first, count: range.count))
        }
        parts.append(.bytes(ByteBuffer(string: closingDelimiter)))
        return .parts(parts)
    }

    /// Content-Length of the whole multipart body.
    func length(of ranges: [ByteRange]) -> Int64 {
        var total = Int64(closingDelimiter.utf8.count)
        for (index, range) in ranges.enumerated() {
            total += Int64(partHeader(range, isFirst: index == 0).utf8.count) + range.count
        }
        return total
    }
}
