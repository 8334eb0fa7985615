/// An entity-tag (RFC 9110 §8.8.3): `"opaque"` or `W/"opaque"`.
struct EntityTag: Equatable, Sendable {
    var opaque: Substring
    var isWeak: Bool

    /// Strong comparison (§8.8.3.2): both strong and the same characters.
    func strongMatch(_ other: EntityTag) -> Bool {
        !isWeak && !other.isWeak && Self.sameOpaque(opaque, other.opaque)
    }

    /// Weak comparison (§8.8.3.2): the same characters, weakness ignored.
    func weakMatch(_ other: EntityTag) -> Bool {
        Self.sameOpaque(opaque, other.opaque)
    }

    static func == (lhs: EntityTag, rhs: EntityTag) -> Bool {
        lhs.isWeak == rhs.isWeak && sameOpaque(lhs.opaque, rhs.opaque)
    }

    /// "The same characters" means the same octets: a tag is opaque, so two that a String
    /// calls equal by Unicode canonical equivalence (a precomposed "é" and "e" with a
    /// combining accent) are different tags.
    private static func sameOpaque(_ lhs: Substring, _ rhs: Substring) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        let inPlace = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in left.elementsEqual(right) }
        }
        return (inPlace ?? nil) ?? lhs.utf8.elementsEqual(rhs.utf8)
    }

    /// Parses one entity-tag that must make up all of `text` (surrounding whitespace allowed).
    /// Read as bytes: the compression filter parses the file's tag on every compressed answer.
    static func parse(_ text: Substring) -> EntityTag? {
        let bytes = text.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start = bytes.index(after: start) }
        while start < end, bytes[bytes.index(before: end)] == UInt8(ascii: " ") || bytes[bytes.index(before: end)] == UInt8(ascii: "\t") {
            end = bytes.index(before: end)
        }
        var weak = false
        if bytes[start..<end].starts(with: "W/".utf8) {
            weak = true
            start = bytes.index(start, offsetBy: 2)
        }
        guard bytes.distance(from: start, to: end) >= 2, bytes[start] == UInt8(ascii: "\""),
            bytes[bytes.index(before: end)] == UInt8(ascii: "\"")
        else { return nil }
        let opaque = bytes[bytes.index(after: start)..<bytes.index(before: end)]
        // etagc = %x21 / %x23-7E / obs-text: no quote, no space, no control characters.
        guard opaque.allSatisfy({ $0 == 0x21 || (0x23...0x7E).contains($0) || $0 >= 0x80 }) else {
            return nil
        }
        return EntityTag(opaque: Substring(opaque), isWeak: weak)
    }
}

/// The value of If-Match or If-None-Match: `*` or a list of entity-tags.
enum EntityTagCondition {
    case any
    case tags([EntityTag])

    /// Elements that are not valid entity-tags are skipped: they can match nothing. Commas
    /// inside quotes are allowed by the grammar, so the list is split quote-aware. Read as
    /// bytes: it runs for every revalidation a browser sends.
    init(_ header: String) {
        var field = header
        let isAny = field.withUTF8 { bytes in
            let value = bytes.trimmingBlanks(0..<bytes.count)
            return value.count == 1 && bytes[value.lowerBound] == UInt8(ascii: "*")
        }
        if isAny {
            self = .any
            return
        }
        let bytes = header.utf8
        var tags: [EntityTag] = []
        var start = bytes.startIndex
        var inQuotes = false
        var index = bytes.startIndex
        while true {
            if index == bytes.endIndex || (bytes[index] == UInt8(ascii: ",") && !inQuotes) {
                if let tag = EntityTag.parse(Substring(bytes[start..<index])) { tags.append(tag) }
                if index == bytes.endIndex { break }
                start = bytes.index(after: index)
            } else if bytes[index] == UInt8(ascii: "\"") {
                inQuotes.toggle()
            }
            index = bytes.index(after: index)
        }
        self = .tags(tags)
    }

    func matches(_ current: EntityTag, weak: Bool) -> Bool {
        switch self {
        case .any: return true
        case .tags(let tags): return tags.contains { weak ? $0.weakMatch(current) : $0.strongMatch(current) }
        }
    }

    /// Comparison (weak for If-None-Match, strong for If-Match) that also accepts the tag of a
    /// variant of `current` compressed on the fly: a client that holds the gzip variant
    /// revalidates with its tag, and the server may answer 304 for either (RFC 9110 §13.1.2;
    /// the compression filter then gives the 304 the tag of the variant this request would
    /// get). The variant is made from `current`'s bytes, so a strong match of its base is a
    /// strong match of the variant.
    func matchesOrCompressedVariant(_ current: EntityTag, weak: Bool = true) -> Bool {
        guard case .tags(let tags) = self else { return true }
        func match(_ tag: EntityTag) -> Bool { weak ? tag.weakMatch(current) : tag.strongMatch(current) }
        return tags.contains { match($0) || $0.removingCompressedVariant.map(match) == true }
    }
}

extension ContentCoding {
    /// The ETag field value of the variant compressed on the fly with this coding at `level`,
    /// of a representation whose ETag is `fieldValue`: each content coding is a representation
    /// of its own (RFC 9110 §8.8.3), so its tag is the original's with "-<coding><level>"
    /// appended. The level is part of it because another level gives other bytes, and a strong
    /// tag promises the same bytes; a weak tag stays weak. Nil when `fieldValue` is no
    /// entity-tag.
    public func variantEntityTag(of fieldValue: String, level: Int) -> String? {
        guard let tag = EntityTag.parse(Substring(fieldValue)) else { return nil }
        // Appended into one string sized at once: this runs for every compressed answer.
        var variant = String()
        variant.reserveCapacity(tag.opaque.utf8.count + 12)
        variant += tag.isWeak ? "W/\"" : "\""
        variant += tag.opaque
        variant += "-"
        variant += self.token
        variant += String(level)
        variant += "\""
        return variant
    }
}

extension EntityTag {
    /// The tag this one is a compressed variant of, when it ends in a variant's suffix
    /// ("-gzip5", "-br4": a coding made on the fly, then its level).
    var removingCompressedVariant: EntityTag? {
        let bytes = opaque.utf8
        let digits = bytes.reversed().prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
        guard digits > 0 else { return nil }
        let withoutLevel = bytes.dropLast(digits)
        for coding in ContentCoding.producedOnTheFly {
            let token = coding.token.utf8
            guard withoutLevel.count > token.count, withoutLevel.reversed().starts(with: token.reversed()) else { continue }
            let base = withoutLevel.dropLast(token.count)
            guard base.last == UInt8(ascii: "-") else { continue }
            return EntityTag(opaque: Substring(base.dropLast()), isWeak: isWeak)
        }
        return nil
    }
}

/// What the preconditions of RFC 9110 §13.2.2 decide for a GET or HEAD of an existing file.
enum PreconditionOutcome: Equatable {
    case proceed
    case notModified
    case preconditionFailed
}

enum Preconditions {
    /// RFC 9110 §13.2.2, steps 1–4 (step 5, If-Range, is part of range handling).
    static func evaluate(
        _ headers: StaticRequestHeaders,
        entityTag: EntityTag,
        lastModified: Int
    ) -> PreconditionOutcome {
        // Step 1: If-Match, strong comparison (§13.1.1); "*" matches any current representation.
        // The tag of a compressed variant is a current representation's too: a client that
        // fetched the gzip variant sends that tag back.
        if let ifMatch = headers.ifMatch {
            if !EntityTagCondition(ifMatch).matchesOrCompressedVariant(entityTag, weak: false) { return .preconditionFailed }
        } else if let value = headers.ifUnmodifiedSince, let date = HTTPDate.parse(value) {
            // Step 2: If-Unmodified-Since only without If-Match; an invalid date is ignored
            // (§13.1.4).
            if lastModified > date { return .preconditionFailed }
        }
        // Step 3: If-None-Match, weak comparison (§13.1.2); for GET/HEAD a match is a 304. The
        // tag of a compressed variant matches its representation too.
        if let ifNoneMatch = headers.ifNoneMatch {
            if EntityTagCondition(ifNoneMatch).matchesOrCompressedVariant(entityTag) { return .notModified }
        } else if let value = headers.ifModifiedSince, let date = HTTPDate.parse(value) {
            // Step 4: If-Modified-Since only without If-None-Match, and only for GET/HEAD (the
            // only methods served here); an invalid date is ignored (§13.1.3).
            if lastModified <= date { return .notModified }
        }
        return .proceed
    }

    /// If-Range (§13.1.5): whether a Range header may be honoured. An entity-tag must match
    /// strongly; a date must equal Last-Modified exactly and Last-Modified must itself be a
    /// strong validator, i.e. at least one second older than the response's Date (§8.8.2.2).
    static func ifRangeAllowsRange(
        _ value: String,
        entityTag: EntityTag,
        lastModified: Int,
        now: Int
    ) -> Bool {
        let trimmed = value.trimmingSpaces()
        if trimmed.hasPrefix("\"") || trimmed.hasPrefix("W/") {
            guard let tag = EntityTag.parse(Substring(trimmed)) else { return false }
            return tag.strongMatch(entityTag)
        }
        guard let date = HTTPDate.parse(String(trimmed)) else { return false }
        return date == lastModified && lastModified < now
    }
}
