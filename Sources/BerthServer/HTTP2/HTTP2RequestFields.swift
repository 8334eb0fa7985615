import NIOHPACK
import NIOHTTP1

/// A request's decoded field block turned into the request head the exchange core takes, with
/// the checks of RFC 9113 §8.2 and §8.3. A request that fails one is malformed (§8.1.1): its
/// stream is reset with PROTOCOL_ERROR, and the connection carries on.
///
/// What HTTP/1.1 parsing would give is given here too: version 2.0, the method from `:method`,
/// the target from `:path`, and `host` from `:authority` when the block has no `host` field,
/// so host matching needs no second rule.
enum HTTP2RequestFields {
    struct Request: Equatable, Sendable {
        var head: HTTPRequestHead
        /// The declared content-length, which the DATA frames must add up to (§8.1.1).
        var contentLength: Int?
    }

    static func request(from fields: HPACKHeaders, streamID: UInt32) throws(HTTP2StreamError) -> Request {
        let malformed = HTTP2StreamError(streamID: streamID, .protocolError)
        var method: String?
        var scheme: String?
        var path: String?
        var authority: String?
        var sawRegularField = false
        var host: String?
        var cookie: String?
        var contentLength: Int?
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count)

        for (name, value, _) in fields {
            guard Self.isValidValue(value) else { throw malformed }
            if name.utf8.first == UInt8(ascii: ":") {
                // §8.3: pseudo-fields come first, each once, and only the request ones.
                guard !sawRegularField, Self.isValidName(name, afterColon: true) else { throw malformed }
                switch name {
                case ":method": guard method == nil else { throw malformed }; method = value
                case ":scheme": guard scheme == nil else { throw malformed }; scheme = value
                case ":path": guard path == nil else { throw malformed }; path = value
                case ":authority": guard authority == nil else { throw malformed }; authority = value
                default: throw malformed
                }
                continue
            }
            sawRegularField = true
            guard Self.isValidName(name, afterColon: false) else { throw malformed }
            switch name {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
                // §8.2.2: connection-specific fields have no meaning in HTTP/2.
                throw malformed
            case "te":
                guard value.utf8.elementsEqual("trailers".utf8) || value.lowercased() == "trailers" else { throw malformed }
            case "host":
                host = value
            case "content-length":
                guard let length = Self.contentLength(value), contentLength == nil || contentLength == length else {
                    throw malformed
                }
                contentLength = length
            case "cookie":
                // §8.2.3: a client may split cookies over several fields; HTTP/1.1 semantics
                // want one, joined with "; ".
                cookie = cookie.map { $0 + "; " + value } ?? value
                continue
            default:
                break
            }
            headers.add(name: name, value: value)
        }

        guard let method, let scheme, let path, !scheme.isEmpty, FieldSyntax.isToken(method) else { throw malformed }
        // Tunnels (§8.5) are not something this server offers.
        guard method != "CONNECT" else { throw malformed }
        // §8.3.1: the path is an absolute path (with query), or "*" for OPTIONS.
        guard path.utf8.first == UInt8(ascii: "/") || (path == "*" && method == "OPTIONS") else { throw malformed }
        if let authority {
            if let host {
                // §8.3.1: a Host naming another entity than :authority is treated as
                // malformed, so that routing can trust either.
                guard host.lowercased() == authority.lowercased() else { throw malformed }
            } else {
                headers.add(name: "host", value: authority)
            }
        }
        if let cookie { headers.add(name: "cookie", value: cookie) }
        let head = HTTPRequestHead(version: .http2, method: HTTPMethod(rawValue: method), uri: path, headers: headers)
        return Request(head: head, contentLength: contentLength)
    }

    /// §8.1: a trailer section holds no pseudo-fields, and obeys the same field rules.
    static func checkTrailers(_ fields: HPACKHeaders, streamID: UInt32) throws(HTTP2StreamError) {
        for (name, value, _) in fields {
            guard Self.isValidName(name, afterColon: false), Self.isValidValue(value) else {
                throw HTTP2StreamError(streamID: streamID, .protocolError)
            }
        }
    }

    /// §8.2.1: no control bytes, space, uppercase, DEL or non-ASCII in a name, and no colon
    /// except the one that starts a pseudo-field (skipped with `afterColon`). Every field of
    /// every request passes here, so the bytes are read in place, not through string indices.
    private static func isValidName(_ name: String, afterColon: Bool) -> Bool {
        let check = { (bytes: UnsafeBufferPointer<UInt8>) -> Bool in
            let checked = afterColon ? UnsafeBufferPointer(rebasing: bytes.dropFirst()) : bytes
            return !checked.isEmpty && isValidName(checked)
        }
        return name.utf8.withContiguousStorageIfAvailable(check) ?? Array(name.utf8).withUnsafeBufferPointer(check)
    }

    private static func isValidName(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte <= 0x20 || byte >= 0x7f || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: ":") {
            return false
        }
        return true
    }

    /// §8.2.1: no NUL, CR or LF anywhere, no whitespace at either end.
    private static func isValidValue(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            guard let first = bytes.first, let last = bytes.last else { return true }
            if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return false }
            for byte in bytes where byte == 0x00 || byte == 0x0a || byte == 0x0d { return false }
            return true
        }
    }

    /// RFC 9110 §8.6: digits only; a value that does not fit is refused rather than wrapped.
    private static func contentLength(_ value: String) -> Int? {
        guard !value.isEmpty, value.utf8.count <= 18, value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(value)
    }
}
