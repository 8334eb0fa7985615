/// HTTP header fields in order, looked up case-insensitively (RFC 9110 §5.1).
///
/// Fields an app adds are validated: a name must be a token and a value must not contain CR,
/// LF, NUL or other control characters (RFC 9110 §5.5), because such a value would let one
/// header smuggle another onto the wire. An invalid field is dropped and remembered; the server
/// then answers the request with a 500 and logs which field was refused, instead of sending a
/// response the app did not mean to send.
public struct Headers: Sendable, Sequence {
    /// One header field.
    public struct Field: Sendable, Hashable {
        /// The name as written, e.g. `Content-Type`.
        public let name: String
        /// The value, without surrounding whitespace.
        public let value: String
    }

    private var fields: [Field]
    /// Why fields were refused, in the order they were added.
    private(set) var rejections: [String] = []

    /// No fields.
    public init() {
        fields = []
    }

    /// Validated fields from name-value pairs, e.g. `Headers([("Cache-Control", "no-store")])`.
    public init(_ pairs: [(String, String)]) {
        fields = []
        fields.reserveCapacity(pairs.count)
        for (name, value) in pairs { add(name: name, value: value) }
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Whether there are no fields.
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value of `name`; setting replaces every field of that name, `nil` removes them.
    public subscript(name: String) -> String? {
        get { fields.first { Self.equalsIgnoringCase($0.name, name) }?.value }
        set {
            remove(name)
            if let newValue { add(name: name, value: newValue) }
        }
    }

    /// Every value of `name`, in order (e.g. several `Set-Cookie` fields).
    public func values(for name: String) -> [String] {
        fields.compactMap { Self.equalsIgnoringCase($0.name, name) ? $0.value : nil }
    }

    /// Whether a field called `name` is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { Self.equalsIgnoringCase($0.name, name) }
    }

    /// Appends a field, keeping existing fields of the same name. An invalid field is dropped and
    /// turns the response into a 500 (see the type's documentation).
    public mutating func add(name: String, value: String) {
        if let problem = Self.problem(name: name, value: value) {
            rejections.append(problem)
            return
        }
        fields.append(Field(name: name, value: Self.trimmed(value)))
    }

    /// Remembers a field that was not added, so the response becomes a 500.
    mutating func refuse(_ reason: String) {
        rejections.append(reason)
    }

    /// Removes every field called `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { Self.equalsIgnoringCase($0.name, name) }
    }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        var left = lhs.utf8.makeIterator()
        var right = rhs.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return true
            case (let l?, let r?) where asciiLowercase(l) == asciiLowercase(r): continue
            default: return false
            }
        }
    }

    private static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// Why a field is unacceptable, or nil.
    static func problem(name: String, value: String) -> String? {
        if name.isEmpty {
            return "a header with an empty name was refused"
        }
        if !name.utf8.allSatisfy(isTokenByte) {
            return "header name \(name.debugDescription) was refused: a name may only contain letters, digits and !#$%&'*+-.^_`|~"
        }
        for byte in value.utf8 {
            if byte == 0x0D || byte == 0x0A {
                return "header \(name) was refused: its value contains CR or LF, which would split it into another header"
            }
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                return "header \(name) was refused: its value contains control character 0x\(String(byte, radix: 16))"
            }
        }
        return nil
    }

    /// RFC 9110 §5.6.2 `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// RFC 9110 §5.5: leading and trailing whitespace is not part of a field value.
    private static func trimmed(_ value: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = value.first, let last = value.last, isSpace(first) || isSpace(last) else {
            return value
        }
        return String(value.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

@_spi(BerthServer)
extension Headers {
    /// Fields the server parsed from a request; its HTTP parser has already validated them.
    public init(trustedFields: [(name: String, value: String)]) {
        self.init(trustedFieldCount: trustedFields.count) { add in
            for field in trustedFields { add(field.name, field.value) }
        }
    }

    /// The same, handed over one by one by `addAll` (`count` of them), so that no array is
    /// made for them on the way: every app request builds its headers this way.
    public init(trustedFieldCount count: Int, _ addAll: (_ add: (String, String) -> Void) -> Void) {
        var fields: [Field] = []
        fields.reserveCapacity(count)
        addAll { fields.append(Field(name: $0, value: $1)) }
        self.fields = fields
    }

    /// Why fields an app tried to add were refused; non-empty means the response must not be sent.
    public var refusedFields: [String] { rejections }

    /// The fields as name-value pairs, in order, with room for `extra` more.
    public func pairs(reservingExtra extra: Int) -> [(String, String)] {
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(fields.count + extra)
        for field in fields { pairs.append((field.name, field.value)) }
        return pairs
    }
}
