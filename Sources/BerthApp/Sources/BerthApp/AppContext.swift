/// What the server tells an app when it creates it, once per worker process.
public struct AppContext: Sendable {
    /// The app's name in the virtual-host file (the key under `apps:`).
    public let name: String
    /// The host names whose paths route to this app; the first is the primary name.
    public let hosts: [String]
    /// The absolute path of the app's root folder: its package folder, or the folder of its
    /// library. Relative paths in settings are meant relative to it.
    public let root: String
    /// The app's `settings:` block, converted to typed values.
    public let settings: [String: AppSetting]
    /// Where the app's log lines go; they land in the server's error log, tagged with the app.
    public let logger: AppLogger

    /// The primary host name, or an empty string for an app no host routes to yet.
    public var host: String { hosts.first ?? "" }

    /// `path` made absolute against ``root`` when it is relative.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return root.hasSuffix("/") ? root + path : root + "/" + path
    }

    /// Writes one line to the server's log.
    public func log(_ level: AppLogger.Level, _ message: String, metadata: [String: String] = [:]) {
        logger.log(level, message, metadata: metadata)
    }

    /// Creates a context; the server does this, and tests of an app can too.
    public init(
        name: String,
        hosts: [String] = [],
        root: String,
        settings: [String: AppSetting] = [:],
        logger: AppLogger = AppLogger { _, _, _ in }
    ) {
        self.name = name
        self.hosts = hosts
        self.root = root
        self.settings = settings
        self.logger = logger
    }
}

/// A log sink the server provides, so apps log without depending on a logging library.
public struct AppLogger: Sendable {
    /// How severe a log line is; the same ladder as swift-log, so the server maps it one to one.
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        /// Very detailed tracing.
        case trace
        /// Details useful while debugging.
        case debug
        /// Normal operation.
        case info
        /// Normal but worth noticing.
        case notice
        /// Something looks wrong but the app carries on.
        case warning
        /// An operation failed.
        case error
        /// The app cannot carry on.
        case critical

        /// Orders levels by severity.
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Receives each line: its level, the message and the metadata.
    public typealias Sink = @Sendable (Level, String, [String: String]) -> Void

    private let sink: Sink

    /// Wraps the server's sink.
    public init(_ sink: @escaping Sink) {
        self.sink = sink
    }

    /// Writes one line.
    public func log(_ level: Level, _ message: String, metadata: [String: String] = [:]) {
        sink(level, message, metadata)
    }

    /// Writes a `debug` line.
    public func debug(_ message: String, metadata: [String: String] = [:]) {
        sink(.debug, message, metadata)
    }

    /// Writes an `info` line.
    public func info(_ message: String, metadata: [String: String] = [:]) {
        sink(.info, message, metadata)
    }

    /// Writes a `warning` line.
    public func warning(_ message: String, metadata: [String: String] = [:]) {
        sink(.warning, message, metadata)
    }

    /// Writes an `error` line.
    public func error(_ message: String, metadata: [String: String] = [:]) {
        sink(.error, message, metadata)
    }
}
