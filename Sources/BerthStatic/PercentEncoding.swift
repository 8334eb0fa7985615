/// Encoding of decoded path text back into URI form (RFC 3986 §2.1), for `Location` values and
/// listing links.
public enum PercentEncoding {
    /// Keeps `/` and the characters a path segment may hold unencoded (unreserved, sub-delims
    /// other than the few that confuse HTML and shells, ":" and "@"); encodes the rest,
    /// including "%", "?" and "#", so the result means exactly the decoded path.
    public static func encodePath(_ path: String) -> String {
        encode(path, keeping: { $0 == UInt8(ascii: "/") || Self.isPathCharacter($0) })
    }

    /// Encodes a single file name for use as a relative link: unreserved characters only, so
    /// a name like `javascript:x` or `a?b` cannot be read as a scheme or a query.
    static func encodeSegment(_ name: String) -> String {
        encode(name, keeping: isUnreserved)
    }

    @inline(__always)
    private static func encode(_ text: String, keeping keep: (UInt8) -> Bool) -> String {
        // Most paths need no escape: they are returned as they are, without a copy.
        let plain = text.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(keep) } ?? text.utf8.allSatisfy(keep)
        guard !plain else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            if keep(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// The path characters of RFC 3986 §3.3 (pchar) that need no escape. A switch rather than
    /// a table: every app request's path is checked byte by byte, and a global table is
    /// reached through a lazy-initialization check on every use.
    private static func isPathCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
            UInt8(ascii: ":"), UInt8(ascii: "@"):
            return true
        default:
            return isUnreserved(byte)
        }
    }
}

/// Escaping for text placed in HTML content or quoted attribute values.
enum HTMLEscaping {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        // By scalar, not Character: a quote followed by a combining mark is one Character
        // unequal to "\"", yet a browser still ends the attribute at the quote.
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
