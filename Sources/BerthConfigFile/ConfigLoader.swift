import Foundation
internal import Yams
import BerthConfig

/// Reads the virtual-host file into a `ServerConfig`.
///
/// Every problem in the file is collected before anything is thrown: `berth check` and a
/// refused reload print the whole list, each with `file:line:column`, so one edit fixes them.
public enum ConfigLoader {
    /// Reads, parses and validates the file at `file`.
    public static func load(file: String) throws(ConfigErrors) -> ServerConfig {
        let start = SourceLocation(file: file, line: 1, column: 1)
        let absolute = ConfigPath.absolute(file)
        func failure(_ message: String) -> ConfigErrors {
            ConfigErrors(errors: [ConfigError(location: start, message: message)])
        }
        switch ConfigPath.kind(of: absolute) {
        case .file: break
        case .missing: throw failure("config file does not exist")
        case .directory, .other: throw failure("config file is not a regular file")
        }
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw failure("config file cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw failure("config file is not UTF-8 text")
        }
        return try parse(yaml: text, file: file)
    }

    /// Parses and validates YAML text. `file` names it in messages, and its folder is where
    /// relative paths are resolved from (against the working directory if `file` is relative).
    public static func parse(yaml: String, file: String) throws(ConfigErrors) -> ServerConfig {
        let sourceFile = ConfigPath.absolute(file)
        let reader = ConfigReader(file: file, baseDirectory: ConfigPath.folder(of: sourceFile))
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigErrors(errors: [syntaxError(error, file: file)])
        }
        guard let root else {
            let start = SourceLocation(file: file, line: 1, column: 1)
            let message = "the file is empty; expected a mapping with 'listen' and 'hosts'"
            throw ConfigErrors(errors: [ConfigError(location: start, message: message)])
        }
        var config = reader.readServer(root, sourceFile: sourceFile)
        guard reader.errors.isEmpty else {
            throw ConfigErrors(errors: reader.errors, warnings: reader.warnings)
        }
        config.warnings = ConfigErrors.sorted(reader.warnings)
        return config
    }

    /// Yams' error, with its 1-based position, in our format.
    static func syntaxError(_ error: any Error, file: String) -> ConfigError {
        func at(_ line: Int, _ column: Int, _ message: String) -> ConfigError {
            ConfigError(location: SourceLocation(file: file, line: line, column: column), message: message)
        }
        guard let error = error as? YamlError else { return at(1, 1, "invalid YAML: \(error)") }
        switch error {
        case let .scanner(_, _, mark, yaml) where character(at: mark, in: yaml) == "\t":
            return at(mark.line, mark.column, "invalid YAML: tabs cannot indent YAML; use spaces")
        case let .composer(_, "but found another document", mark, _):
            return at(mark.line, mark.column,
                      "invalid YAML: a second document ('---') follows; the file must hold one")
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = context.map {
                " (\($0.text) at line \($0.mark.line), column \($0.mark.column))"
            } ?? ""
            return at(mark.line, mark.column, "invalid YAML: \(problem)\(detail)")
        case let .reader(problem, offset, _, yaml):
            let (line, column) = position(ofCharacter: offset ?? 0, in: yaml)
            return at(line, column, "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams marks the first occurrence only; the message says so, so nobody hunts there.
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            let (noun, verb) = duplicates.count == 1 ? ("key", "appears") : ("keys", "appear")
            return at(context.mark.line, context.mark.column,
                      "\(noun) \(keys) \(verb) again later in this mapping; each key may be given once")
        default:
            return at(1, 1, "invalid YAML: \(error)")
        }
    }

    /// The character at a 1-based mark, counting columns in Unicode scalars as libyaml does.
    private static func character(at mark: Mark, in text: String) -> Unicode.Scalar? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let scalars = Array(lines[mark.line - 1].unicodeScalars)
        return mark.column >= 1 && mark.column <= scalars.count ? scalars[mark.column - 1] : nil
    }

    /// 1-based line and column (in Unicode scalars, as libyaml counts) of a character offset.
    private static func position(ofCharacter offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1
        for character in text.prefix(offset) {
            if character == "\n" { line += 1; column = 1 } else { column += character.unicodeScalars.count }
        }
        return (line, column)
    }
}
