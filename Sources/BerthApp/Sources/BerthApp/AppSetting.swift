/// One value from an app's `settings:` block in the virtual-host file.
///
/// The server converts the YAML it read into these plain values, so an app never depends on a
/// YAML library. Read them with the optional accessors, which return `nil` for a value of
/// another kind: `context.settings["greeting"]?.string ?? "Hello"`.
public enum AppSetting: Sendable, Hashable {
    /// A string, e.g. `greeting: Hello`.
    case string(String)
    /// A whole number, e.g. `page_size: 20`.
    case int(Int)
    /// A number with a fraction, e.g. `ratio: 0.5`.
    case double(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// A YAML sequence.
    case array([AppSetting])
    /// A YAML mapping with string keys.
    case dictionary([String: AppSetting])
    /// An explicit `null` or `~`.
    case null

    /// The string, if this is a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, if this is a whole number.
    public var int: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The number, if this is a number; whole numbers convert, since YAML writes `2` for `2.0`.
    public var double: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// The flag, if this is a boolean.
    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, if this is a sequence.
    public var array: [AppSetting]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The entries, if this is a mapping.
    public var dictionary: [String: AppSetting]? {
        if case .dictionary(let value) = self { return value }
        return nil
    }

    /// Whether this is an explicit null.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The entry for `key`, if this is a mapping that has it; allows `settings["db"]?["path"]`.
    public subscript(key: String) -> AppSetting? {
        dictionary?[key]
    }

    /// The element at `index`, if this is a sequence that long.
    public subscript(index: Int) -> AppSetting? {
        guard let array, array.indices.contains(index) else { return nil }
        return array[index]
    }
}

extension AppSetting: ExpressibleByStringLiteral {
    /// A string setting, so tests can write `["greeting": "Hi"]`.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension AppSetting: ExpressibleByIntegerLiteral {
    /// A whole-number setting.
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension AppSetting: ExpressibleByFloatLiteral {
    /// A fractional setting.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension AppSetting: ExpressibleByBooleanLiteral {
    /// A boolean setting.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension AppSetting: ExpressibleByArrayLiteral {
    /// A sequence setting.
    public init(arrayLiteral elements: AppSetting...) { self = .array(elements) }
}

extension AppSetting: ExpressibleByDictionaryLiteral {
    /// A mapping setting; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, AppSetting)...) {
        self = .dictionary(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension AppSetting: ExpressibleByNilLiteral {
    /// An explicit null.
    public init(nilLiteral: ()) { self = .null }
}
