import NIOCore
import NIOHTTP1

/// Response field blocks (RFC 7541) that depend on no connection state: no dynamic table and
/// no Huffman coding. `:status` is an indexed field when the static table has it, every other
/// field a "literal header field without indexing" (§6.2.2) naming the static table entry
/// when there is one. Blocks are a few bytes larger than a stateful encoder's, but a block
/// prepared once (a hot file's fields) is valid on every connection and costs nothing to
/// send again, and the encoder keeps no per-connection table.
///
/// A block is a sequence of independent field representations, so the status, prepared
/// fields and per-response fields (the date) can be written one after the other.
enum HPACKResponseEncoder {
    /// `:status` first (RFC 9113 §8.3: pseudo-fields precede regular ones), then `headers`.
    static func writeResponse(status: Int, headers: HTTPHeaders, into buffer: inout ByteBuffer) {
        Self.writeStatus(status, into: &buffer)
        Self.writeFields(headers, into: &buffer)
    }

    /// The `:status` pseudo-field (RFC 9113 §8.3.2): indexed from the static table for the
    /// seven codes it holds (RFC 7541 Appendix A, entries 8–14), else a literal value under
    /// the name of entry 8.
    static func writeStatus(_ status: Int, into buffer: inout ByteBuffer) {
        precondition((100...999).contains(status), "a status code has three digits")
        switch status {
        case 200: buffer.writeInteger(UInt8(0x80 | 8))
        case 204: buffer.writeInteger(UInt8(0x80 | 9))
        case 206: buffer.writeInteger(UInt8(0x80 | 10))
        case 304: buffer.writeInteger(UInt8(0x80 | 11))
        case 400: buffer.writeInteger(UInt8(0x80 | 12))
        case 404: buffer.writeInteger(UInt8(0x80 | 13))
        case 500: buffer.writeInteger(UInt8(0x80 | 14))
        default:
            buffer.writeInteger(UInt8(8))  // literal without indexing, name index 8
            buffer.writeInteger(UInt8(3))  // value length, no Huffman
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(status / 100))
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(status / 10 % 10))
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(status % 10))
        }
    }

    static func writeFields<Fields: Sequence>(_ fields: Fields, into buffer: inout ByteBuffer)
    where Fields.Element == (name: String, value: String) {
        for (name, value) in fields {
            Self.writeField(name: name, value: value, into: &buffer)
        }
    }

    /// One regular field, its name lowercased (RFC 9113 §8.2.2). Fields that are
    /// connection-specific in HTTP/1.1 are dropped: §8.2.2 makes a message carrying one
    /// malformed. So are pseudo-fields, which only `writeStatus` may write.
    static func writeField(name: String, value: String, into buffer: inout ByteBuffer) {
        guard let first = name.utf8.first, first != UInt8(ascii: ":") else { return }
        let hasUppercase = name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        let lowercased = hasUppercase ? Self.asciiLowercased(name) : name
        if Self.isConnectionSpecific(lowercased) { return }
        if let index = Self.staticNameIndex[lowercased] {
            // 0000xxxx: literal without indexing, name from the static table (4-bit prefix).
            Self.writeInteger(index, prefixBits: 4, flags: 0x00, into: &buffer)
        } else {
            buffer.writeInteger(UInt8(0x00))
            Self.writeInteger(lowercased.utf8.count, prefixBits: 7, flags: 0x00, into: &buffer)
            buffer.writeString(lowercased)
        }
        Self.writeInteger(value.utf8.count, prefixBits: 7, flags: 0x00, into: &buffer)
        buffer.writeString(value)
    }

    /// A dynamic table size update to 0 (RFC 7541 §6.3). Once a peer lowers
    /// SETTINGS_HEADER_TABLE_SIZE, §4.2 wants the next block to begin with an update, whether
    /// or not the table is used; some decoders (nghttp2) insist on it.
    static func writeTableSizeUpdateToZero(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0x20))
    }

    /// RFC 7541 §5.1: an integer in an N-bit prefix, continued in 7-bit groups.
    static func writeInteger(_ value: Int, prefixBits: Int, flags: UInt8, into buffer: inout ByteBuffer) {
        let limit = (1 << prefixBits) - 1
        guard value >= limit else {
            buffer.writeInteger(flags | UInt8(value))
            return
        }
        buffer.writeInteger(flags | UInt8(limit))
        var rest = value - limit
        while rest >= 128 {
            buffer.writeInteger(UInt8(rest & 0x7f | 0x80))
            rest >>= 7
        }
        buffer.writeInteger(UInt8(rest))
    }

    /// RFC 9113 §8.2.2.
    static func isConnectionSpecific(_ lowercasedName: String) -> Bool {
        switch lowercasedName {
        case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade": true
        default: false
        }
    }

    private static func asciiLowercased(_ name: String) -> String {
        String(decoding: name.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// The first static table entry of each name (RFC 7541 Appendix A), pseudo-fields left
    /// out.
    static let staticNameIndex: [String: Int] = [
        "accept-charset": 15, "accept-encoding": 16, "accept-language": 17, "accept-ranges": 18,
        "accept": 19, "access-control-allow-origin": 20, "age": 21, "allow": 22, "authorization": 23,
        "cache-control": 24, "content-disposition": 25, "content-encoding": 26, "content-language": 27,
        "content-length": 28, "content-location": 29, "content-range": 30, "content-type": 31,
        "cookie": 32, "date": 33, "etag": 34, "expect": 35, "expires": 36, "from": 37, "host": 38,
        "if-match": 39, "if-modified-since": 40, "if-none-match": 41, "if-range": 42,
        "if-unmodified-since": 43, "last-modified": 44, "link": 45, "location": 46, "max-forwards": 47,
        "proxy-authenticate": 48, "proxy-authorization": 49, "range": 50, "referer": 51, "refresh": 52,
        "retry-after": 53, "server": 54, "set-cookie": 55, "strict-transport-security": 56,
        "transfer-encoding": 57, "user-agent": 58, "vary": 59, "via": 60, "www-authenticate": 61,
    ]
}

/// Response fields encoded once and appended to any number of responses, on any connection:
/// say the fields of a hot file (type, length, validators). Holds no `:status`; a response
/// block is `writeStatus`, then one or more prepared or directly written field runs.
struct HPACKPreparedFields: Sendable, Equatable {
    let bytes: ByteBuffer

    init<Fields: Sequence>(_ fields: Fields) where Fields.Element == (name: String, value: String) {
        var bytes = ByteBufferAllocator().buffer(capacity: 128)
        HPACKResponseEncoder.writeFields(fields, into: &bytes)
        self.bytes = bytes
    }

    func write(into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(self.bytes)
    }
}
