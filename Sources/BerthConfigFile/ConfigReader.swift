internal import Yams
import BerthConfig

/// Walks the YAML tree and turns it into values, recording every problem instead of stopping.
///
/// Each reader returns nil (or skips the item) after recording an error, and callers carry on
/// with what they have, so one pass over the file reports everything that is wrong with it.
/// The reading code of each value type is an extension of this class in its own file
/// (`ServerConfigReading.swift` for `ServerConfig`, and so on).
final class ConfigReader {
    /// The file name as the user gave it, for messages.
    let file: String
    /// The absolute folder that relative paths in the file are resolved against.
    let baseDirectory: String
    private(set) var errors: [ConfigError] = []
    private(set) var warnings: [ConfigError] = []
    /// Every name under `apps:`, valid or not, for checking `app:` and `fallback:` references.
    var declaredApps: [String] = []
    /// Apps that some route names, for the warning about apps nothing uses.
    var referencedApps: Set<String> = []
    /// Hosts that wrote a `tls:` key, valid or not, so that a broken certificate path does not
    /// also produce "no host has a certificate" for every TLS listener.
    var hostsWithTLSKey = 0
    /// Where each host name and alias is written, for messages about one name of a host.
    var nameLocations: [String: SourceLocation] = [:]
    /// Where the challenge types are chosen (`challenges:`, else the `acme:` block).
    var acmeChallengesLocation: SourceLocation?

    init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    func location(_ node: Node) -> SourceLocation { location(node.mark) }

    func location(_ mark: Mark?) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    func error(_ message: String, at node: Node) { error(message, at: location(node)) }

    func error(_ message: String, at location: SourceLocation) {
        errors.append(ConfigError(location: location, message: message))
    }

    func warning(_ message: String, at location: SourceLocation) {
        warnings.append(ConfigError(location: location, message: message))
    }
}

/// One `key: value` pair of a mapping; the key's node locates messages about the key itself.
struct Entry {
    var key: String
    var keyNode: Node
    var value: Node
}

/// A mapping whose keys were checked against the keys allowed where it appears.
struct Fields {
    var node: Node
    var entries: [Entry]

    subscript(key: String) -> Node? { entry(key)?.value }

    func entry(_ key: String) -> Entry? { entries.first { $0.key == key } }

    func contains(_ key: String) -> Bool { entry(key) != nil }
}

// MARK: - Mappings and lists

extension ConfigReader {
    /// The pairs of a mapping, in file order, with YAML merge keys (`<<: *defaults`) expanded
    /// in place; keys written out in the mapping win over merged ones.
    func entries(of node: Node, expected: String) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            error("expected \(expected), found \(kind(of: node))", at: node)
            return nil
        }
        let isMerge = { (key: Node) in key.scalar?.string == "<<" && key.scalar?.style == .plain }
        let explicit = Set(mapping.compactMap { isMerge($0.key) ? nil : $0.key.scalar?.string })
        var seen = explicit
        var result: [Entry] = []
        for (keyNode, value) in mapping {
            if isMerge(keyNode) {
                let sources: [Node]
                if case .sequence(let list) = value { sources = Array(list) } else { sources = [value] }
                for source in sources {
                    let expected = "a mapping to merge (an alias like *defaults)"
                    for merged in entries(of: source, expected: expected) ?? [] {
                        guard seen.insert(merged.key).inserted else { continue }
                        result.append(merged)
                    }
                }
                continue
            }
            guard let scalar = keyNode.scalar else {
                error("expected a key name, found \(kind(of: keyNode))", at: keyNode)
                continue
            }
            result.append(Entry(key: scalar.string, keyNode: keyNode, value: value))
        }
        return result
    }

    /// A mapping whose keys must all be in `allowed`; any other key is an error that names the
    /// closest allowed key, or lists them all.
    func fields(of node: Node, expected: String, context: String, allowed: [String]) -> Fields? {
        guard let entries = entries(of: node, expected: expected) else { return nil }
        for entry in entries where !allowed.contains(entry.key) {
            let hint = Suggestion.hint(for: entry.key, in: allowed, listing: "allowed keys")
            error("unknown key '\(entry.key)' \(context)\(hint)", at: entry.keyNode)
        }
        return Fields(node: node, entries: entries.filter { allowed.contains($0.key) })
    }

    /// The value of a key that must be present; a missing key is reported at the mapping.
    func required(_ key: String, in fields: Fields, context: String, expected: String) -> Node? {
        if let value = fields[key] { return value }
        error("missing key '\(key)' \(context) (expected \(expected))", at: fields.node)
        return nil
    }

    func sequence(_ node: Node, expected: String) -> [Node]? {
        guard case .sequence(let list) = node else {
            error("expected \(expected), found \(kind(of: node))", at: node)
            return nil
        }
        return Array(list)
    }
}

// MARK: - Scalars

extension ConfigReader {
    /// The text of a scalar; mappings, lists and empty values are reported.
    func scalar(_ node: Node, expected: String) -> String? {
        guard let scalar = node.scalar, !ConfigReader.isNull(node) else {
            error("expected \(expected), found \(found(node))", at: node)
            return nil
        }
        return scalar.string
    }

    func string(_ node: Node, expected: String = "a string") -> String? {
        guard let text = scalar(node, expected: expected) else { return nil }
        guard !text.isEmpty else {
            error("expected \(expected), found an empty string", at: node)
            return nil
        }
        return text
    }

    func bool(_ node: Node) -> Bool? {
        switch node.scalar?.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            error("expected true or false, found \(found(node))", at: node)
            return nil
        }
    }

    /// An integer in `range`. Digit groups (`10_000`) are allowed since big limits read better.
    func integer(_ node: Node, in range: ClosedRange<Int>, expected: String? = nil) -> Int? {
        let expected = expected ?? (range.upperBound == Int.max
            ? "an integer of at least \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)")
        guard let text = node.scalar?.string,
              let first = text.first, first != "_", text.last != "_",
              let value = Int(String(text.filter { $0 != "_" })),
              range.contains(value)
        else {
            error("expected \(expected), found \(found(node))", at: node)
            return nil
        }
        return value
    }

    func size(_ node: Node, minimum: Int) -> Int? {
        guard let text = scalar(node, expected: "a size like 16KiB") else { return nil }
        guard let bytes = ByteSize.parse(text) else {
            error("expected a size like 16KiB, found \(found(node))", at: node)
            return nil
        }
        guard bytes >= minimum else {
            let unit = minimum == 1 ? "byte" : "bytes"
            error("expected a size of at least \(minimum) \(unit), found \(found(node))", at: node)
            return nil
        }
        return bytes
    }

    /// A duration; zero is refused where a zero timeout would disable a safety limit.
    func duration(_ node: Node, allowZero: Bool = false) -> Duration? {
        guard let text = scalar(node, expected: "a duration like 10s") else { return nil }
        guard let duration = DurationText.parse(text) else {
            error("expected a duration like 10s, found \(found(node))", at: node)
            return nil
        }
        guard allowZero || duration > .zero else {
            error("expected a duration longer than zero, like 10s, found \(found(node))", at: node)
            return nil
        }
        return duration
    }

    /// One of a fixed set of words, with a suggestion for near misses.
    func choice(_ node: Node, from choices: [String]) -> String? {
        let expected = "one of " + choices.joined(separator: ", ")
        guard let text = scalar(node, expected: expected) else { return nil }
        guard choices.contains(text) else {
            let hint = Suggestion.closest(to: text, in: choices).map { "; did you mean '\($0)'?" } ?? ""
            error("expected \(expected), found \(found(node))\(hint)", at: node)
            return nil
        }
        return text
    }
}

// MARK: - Files and directories

extension ConfigReader {
    /// A path, made absolute against the config file's folder.
    func path(_ node: Node, expected: String) -> String? {
        string(node, expected: expected).map { ConfigPath.resolve($0, against: baseDirectory) }
    }

    /// An absolute path to an existing directory; `what` names it in messages.
    func directory(_ node: Node, what: String) -> String? {
        guard let path = path(node, expected: "the path of a \(what)") else { return nil }
        switch ConfigPath.kind(of: path) {
        case .directory: return path
        case .missing: error("\(what) '\(path)' does not exist", at: node)
        case .file, .other: error("\(what) '\(path)' is not a directory", at: node)
        }
        return nil
    }

    /// An absolute path to an existing regular file; `what` names it in messages.
    func file(_ node: Node, what: String) -> String? {
        guard let path = path(node, expected: "the path of a \(what)") else { return nil }
        switch ConfigPath.kind(of: path) {
        case .file: return path
        case .missing: error("\(what) '\(path)' does not exist", at: node)
        case .directory: error("\(what) '\(path)' is a directory, not a file", at: node)
        case .other: error("\(what) '\(path)' is not a regular file", at: node)
        }
        return nil
    }
}

// MARK: - Describing what was found

extension ConfigReader {
    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// What a node is, for messages that expected a mapping or a list.
    func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if ConfigReader.isNull(node) { return "nothing" }
            guard scalar.style == .plain else { return "a string" }
            if Int(scalar.string) != nil || Double(scalar.string) != nil { return "a number" }
            if ["true", "false", "True", "False", "TRUE", "FALSE"].contains(scalar.string) {
                return "a boolean"
            }
            return "a string"
        }
    }

    /// What a node is, for messages that expected a scalar: its text when it has one.
    func found(_ node: Node) -> String {
        guard let scalar = node.scalar, !ConfigReader.isNull(node) else { return kind(of: node) }
        return "'\(scalar.string)'"
    }
}
