import BerthStatic
import NIOHTTP1

extension StaticRequestHeaders {
    /// One pass over the fields (this runs for every static request). Repeated fields are
    /// joined with ", " (RFC 9110 §5.3): a client may split a list of entity tags over
    /// several If-None-Match lines.
    init(_ headers: HTTPHeaders) {
        self.init()
        for (name, value) in headers { self.take(name, value) }
    }

    /// Keeps `value` when `name` is one of these fields. `FramingFields` calls it from its own
    /// pass over a request head, so the head is walked once for both.
    mutating func take(_ name: String, _ value: String) {
        let utf8 = name.utf8
        guard utf8.count >= 5, let first = utf8.first else { return }
        switch first | 0x20 {
        case UInt8(ascii: "i"):
            if name.caseInsensitiveEquals("if-match") {
                Self.append(value, to: &self.ifMatch)
            } else if name.caseInsensitiveEquals("if-none-match") {
                Self.append(value, to: &self.ifNoneMatch)
            } else if name.caseInsensitiveEquals("if-modified-since") {
                self.ifModifiedSince = self.ifModifiedSince ?? value
            } else if name.caseInsensitiveEquals("if-unmodified-since") {
                self.ifUnmodifiedSince = self.ifUnmodifiedSince ?? value
            } else if name.caseInsensitiveEquals("if-range") {
                self.ifRange = self.ifRange ?? value
            }
        case UInt8(ascii: "r"):
            if name.caseInsensitiveEquals("range") { self.range = self.range ?? value }
        case UInt8(ascii: "a"):
            if name.caseInsensitiveEquals("accept-encoding") { Self.append(value, to: &self.acceptEncoding) }
        default:
            return
        }
    }

    private static func append(_ value: String, to field: inout String?) {
        if let existing = field { field = existing + ", " + value } else { field = value }
    }
}

extension String {
    /// ASCII case-insensitive comparison with a lowercase literal, without allocating. Native
    /// strings compare their bytes in place; a generic walk over two UTF-8 views costs more
    /// than the rest of the comparison, and this runs for every field of every answer.
    func caseInsensitiveEquals(_ lowercase: String) -> Bool {
        guard self.utf8.count == lowercase.utf8.count else { return false }
        if let equal = self.utf8.withContiguousStorageIfAvailable({ mine in
            lowercase.utf8.withContiguousStorageIfAvailable { theirs in Self.asciiLowercaseEquals(mine, theirs) }
        }), let equal {
            return equal
        }
        return zip(self.utf8, lowercase.utf8).allSatisfy { a, b in
            a == b || (a >= UInt8(ascii: "A") && a <= UInt8(ascii: "Z") && a | 0x20 == b)
        }
    }

    /// Whether this comma-separated list (a field value, RFC 9110 §5.6.1) has an element equal
    /// to the lowercase `element`, ignoring ASCII case and the blanks around elements. Read in
    /// place: Vary and Cache-Control are asked this of answers that may be compressed.
    func listContains(_ element: String) -> Bool {
        var list = self
        var element = element
        return list.withUTF8 { bytes in
            element.withUTF8 { wanted in
                var start = 0
                while start <= bytes.count {
                    var end = start
                    while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                    let element = bytes.trimmingBlanks(start..<end)
                    if element.count == wanted.count,
                        Self.asciiLowercaseEquals(UnsafeBufferPointer(rebasing: bytes[element]), wanted)
                    {
                        return true
                    }
                    start = end + 1
                }
                return false
            }
        }
    }

    static func asciiLowercaseEquals(_ mine: UnsafeBufferPointer<UInt8>, _ theirs: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<mine.count {
            let a = mine[index], b = theirs[index]
            if a != b && !(a >= UInt8(ascii: "A") && a <= UInt8(ascii: "Z") && a | 0x20 == b) { return false }
        }
        return true
    }
}
