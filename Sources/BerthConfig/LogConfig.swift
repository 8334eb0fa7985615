/// Where a log goes. In the file: `"-"` is standard output, `stderr` standard error, `off`
/// nothing, and anything else a file path (relative to the config file's folder).
public enum LogDestination: Sendable, Equatable, Codable {
    case standardOutput
    case standardError
    /// An absolute path; the server opens it for appending and reopens it on SIGUSR1.
    case file(String)
    case off
}

/// The access log line format.
public enum AccessLogFormat: String, Sendable, Equatable, CaseIterable, Codable {
    /// The Apache/nginx "combined" format that every log tool reads.
    case combined
    /// One JSON object per line, for log shippers.
    case json
}

/// The top-level `logs:` mapping.
///
/// ```yaml
/// logs:
///   access: "-"          # default off; "-" stdout, stderr, off, or a path like logs/access.log
///   format: combined     # combined (default) or json
///   error: stderr        # default stderr; same choices as access
/// ```
public struct LogConfig: Sendable, Equatable, Codable {
    /// Off unless asked for: a busy site's access log on the terminal drowns everything else.
    public var access: LogDestination = .off
    public var format: AccessLogFormat = .combined
    public var error: LogDestination = .standardError

    public init(access: LogDestination = .off, format: AccessLogFormat = .combined,
                error: LogDestination = .standardError) {
        self.access = access
        self.format = format
        self.error = error
    }
}
