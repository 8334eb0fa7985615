/// The `name=value` pairs of a query string, in order, decoded as an HTML form would encode
/// them (`+` is a space, `%XX` a byte).
public struct QueryItems: Sendable, RandomAccessCollection {
    /// One `name=value` pair; a bare `name` has an empty value.
    public struct Item: Sendable, Hashable {
        /// The decoded name.
        public let name: String
        /// The decoded value.
        public let value: String
    }

    private let items: [Item]

    /// Parses a raw query string (without the `?`).
    public init(parsing query: String) {
        var items: [Item] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let name = pair[pair.startIndex..<(equals ?? pair.endIndex)]
            let value = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            items.append(Item(name: PercentDecoding.decode(name, plusIsSpace: true),
                              value: PercentDecoding.decode(value, plusIsSpace: true)))
        }
        self.items = items
    }

    /// The first value of `name`, e.g. `request.queryItems["page"]`.
    public subscript(name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    /// Every value of `name`, for `?tag=a&tag=b`.
    public func values(for name: String) -> [String] {
        items.compactMap { $0.name == name ? $0.value : nil }
    }

    /// The position of the first item.
    public var startIndex: Int { items.startIndex }
    /// The position after the last item.
    public var endIndex: Int { items.endIndex }
    /// The item at `position`.
    public subscript(position: Int) -> Item { items[position] }
}

/// The cookies a request carries in its `Cookie` header fields (RFC 6265 §5.4).
public struct Cookies: Sendable {
    private let pairs: [(name: String, value: String)]

    init(headers: Headers) {
        var pairs: [(name: String, value: String)] = []
        for field in headers.values(for: "Cookie") {
            for part in field.split(separator: ";") {
                let trimmed = part.drop { $0 == " " || $0 == "\t" }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                let name = String(trimmed[..<equals]).trimmingSpaces
                var value = String(trimmed[trimmed.index(after: equals)...]).trimmingSpaces
                // RFC 6265 §4.1.1 allows a value in double quotes; the quotes are not part of it.
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                if !name.isEmpty { pairs.append((name, value)) }
            }
        }
        self.pairs = pairs
    }

    /// The value of the first cookie called `name` (names are case-sensitive).
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every cookie, in the order the client sent them.
    public var all: [(name: String, value: String)] { pairs }
}

extension String {
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

enum PercentDecoding {
    /// Decodes `%XX` escapes (and `+` when asked); a malformed escape stays as written, and
    /// bytes that are not UTF-8 become U+FFFD, so decoding never fails.
    static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes, plusIsSpace: Bool) -> String {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"),
               let high = bytes.index(index, offsetBy: 1, limitedBy: bytes.endIndex), high != bytes.endIndex,
               let low = bytes.index(high, offsetBy: 1, limitedBy: bytes.endIndex), low != bytes.endIndex,
               let h = hexValue(bytes[high]), let l = hexValue(bytes[low]) {
                output.append(h << 4 | l)
                index = bytes.index(after: low)
                continue
            }
            output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = bytes.index(after: index)
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
