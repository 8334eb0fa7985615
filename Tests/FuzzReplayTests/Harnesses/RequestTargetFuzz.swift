@testable import BerthStatic

/// A request-target through `RequestTarget.parse`, the one place a path is decoded and
/// normalized, and the encoders that turn paths back into URIs and HTML. What must hold:
/// - a path is normal: starts with "/", no empty, "." or ".." segment, no NUL, control byte
///   or backslash (so no `..` can reach the file system, however it was encoded);
/// - normalizing is idempotent: the path, percent-encoded again, parses to itself;
/// - the fast path for plain targets agrees with the full parse (the same target in
///   absolute-form always takes the full one);
/// - encoders emit only the characters they promise, and decoding gives the text back.
enum RequestTargetFuzz {
    static func run(_ input: FuzzInput) {
        // The HTTP/1 parser and HPACK both hand targets over as Strings, invalid UTF-8 replaced.
        let raw = input.text
        let result = RequestTarget.parse(raw)
        if case .success(let target) = result {
            Self.checkNormalized(target, input)
            let again = RequestTarget.parse(PercentEncoding.encodePath(target.path))
            input.require(again == .success(RequestTarget(path: target.path)), "the encoded path \(target.path) parses to \(again)")
        }

        if raw.utf8.first == UInt8(ascii: "/") {
            let absolute = RequestTarget.parse("http://fuzz.example" + raw)
            let expected = result.map { RequestTarget(path: $0.path, query: $0.query, authority: "fuzz.example") }
            input.require(absolute == expected, "origin-form gives \(result), absolute-form \(absolute)")
        }

        Self.checkEncoding(PercentEncoding.encodePath(raw), of: raw, keeping: "/!$&()*+,;=:@", input)
        Self.checkEncoding(PercentEncoding.encodeSegment(raw), of: raw, keeping: "", input)

        let html = HTMLEscaping.escape(raw)
        input.require(!html.utf8.contains { "<>\"'".utf8.contains($0) }, "markup characters survive HTML escaping: \(FuzzInput.escaped(Array(html.utf8)))")
    }

    /// What every accepted target's path must look like, whatever the request said.
    static func checkNormalized(_ target: RequestTarget, _ input: FuzzInput) {
        let path = target.path
        input.require(path.utf8.first == UInt8(ascii: "/"), "path \(path) does not start with /")
        input.require(!path.contains("//"), "path \(path) has an empty segment")
        let segments = path.utf8.split(separator: UInt8(ascii: "/"))
        input.require(!segments.contains { $0.elementsEqual(".".utf8) || $0.elementsEqual("..".utf8) }, "path \(path) has a dot segment")
        input.require(!path.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }, "path \(path) has a control byte or backslash")
        if let query = target.query {
            input.require(!query.utf8.contains(UInt8(ascii: "#")), "query \(query) keeps a fragment")
        }
        if let authority = target.authority {
            input.require(!authority.isEmpty && !authority.utf8.contains { $0 <= 0x20 || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "@") || $0 >= 0x7F },
                "authority \(authority) has a character a host cannot have")
        }
    }

    /// `encoded` holds only unreserved characters, those of `keeping` and %XX, and decodes to `text`.
    static func checkEncoding(_ encoded: String, of text: String, keeping: String, _ input: FuzzInput) {
        let bytes = Array(encoded.utf8)
        var decoded: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                input.require(index + 2 < bytes.count, "a cut-off escape in \(encoded)")
                let pair = String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self)
                input.require(pair.uppercased() == pair, "a lowercase escape in \(encoded)")
                guard let value = UInt8(pair, radix: 16) else {
                    input.require(false, "a malformed escape in \(encoded)")
                    return
                }
                decoded.append(value)
                index += 3
                continue
            }
            let unreserved = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || "-._~".utf8.contains(byte)
            input.require(unreserved || keeping.utf8.contains(byte), "\(encoded) keeps a character it must escape")
            decoded.append(byte)
            index += 1
        }
        input.require(decoded.elementsEqual(text.utf8), "\(encoded) does not decode to the text it encodes")
    }
}
