/// An in-process Swift app: an entry of the top-level `apps:` mapping, keyed by the name that
/// hosts use in `app: NAME` and `fallback: NAME`.
///
/// ```yaml
/// apps:
///   notes:                       # letters, digits, '-', '_' and '.'
///     package: ../sites/notes    # a Swift package folder (with Package.swift) ...
///     product: NotesApp          # ... and the library product to load from it
///     # library: /srv/apps/libNotesApp.so   # or a built library; exactly one of the two
///     settings: { greeting: Hello, limit: 10 }   # handed to the app as typed values
///     timeout: 30s               # per request; default 30s
///     websocket: { max_message: 1MiB, idle_timeout: 60s }   # see WebSocketConfig
/// ```
public struct AppConfig: Sendable, Equatable, Codable {
    public var name: String
    public var source: AppSource
    /// Always a `.dictionary`; empty when the file has no `settings:`.
    public var settings: SettingValue
    /// The `timeout` key: how long one request may take before the client gets a 503.
    public var requestTimeout: Duration
    /// The `websocket` key: limits of the app's WebSocket connections.
    public var webSocket = WebSocketConfig()
    public var location: SourceLocation

    public init(name: String, source: AppSource, settings: SettingValue = .dictionary([:]),
                requestTimeout: Duration = .seconds(30), location: SourceLocation) {
        self.name = name
        self.source = source
        self.settings = settings
        self.requestTimeout = requestTimeout
        self.location = location
    }
}

/// Where an app's code comes from.
public enum AppSource: Sendable, Equatable, Codable {
    /// A Swift package folder (absolute) and its library product; the server builds it.
    case package(directory: String, product: String)
    /// A built shared library (absolute path).
    case library(path: String)
}

/// A value from an app's `settings:`, typed by the YAML 1.2 core schema: `yes`, `no`, `on` and
/// `off` stay strings (only `true`/`false` are booleans), and quoted scalars are always strings.
public indirect enum SettingValue: Sendable, Equatable, Codable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([SettingValue])
    case dictionary([String: SettingValue])
    case null
}
