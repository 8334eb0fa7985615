/// A place in the virtual-host file, 1-based like compilers print it, so that editors and
/// terminals can jump straight to `file:line:column`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible, Codable {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One finding about the virtual-host file. Every message says what was expected, so the
/// user knows what to write instead, not only what is wrong.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible, Codable {
    public var location: SourceLocation
    public var message: String

    public init(location: SourceLocation, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Findings that do not stop the server from starting (say, no default host) have the same
/// shape as errors; `ServerConfig.warnings` holds them.
public typealias ConfigWarning = ConfigError

/// Every error found in one pass over the file. Loading never stops at the first problem:
/// fixing a config one error per restart is the experience this type exists to avoid.
public struct ConfigErrors: Error, Sendable, Codable, CustomStringConvertible {
    /// Sorted by line, then column.
    public var errors: [ConfigError]
    /// Non-fatal findings of the same pass, so `berth check` can show them next to the errors.
    public var warnings: [ConfigError]

    public init(errors: [ConfigError], warnings: [ConfigError] = []) {
        self.errors = ConfigErrors.sorted(errors)
        self.warnings = ConfigErrors.sorted(warnings)
    }

    /// One error per line, in file order.
    public var description: String {
        ConfigErrors.sorted(errors).map(\.description).joined(separator: "\n")
    }

    package static func sorted(_ findings: [ConfigError]) -> [ConfigError] {
        // Enumerated so that findings at the same place keep the order they were found in.
        findings.enumerated().sorted { lhs, rhs in
            let l = lhs.element.location, r = rhs.element.location
            if l.line != r.line { return l.line < r.line }
            if l.column != r.column { return l.column < r.column }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}
