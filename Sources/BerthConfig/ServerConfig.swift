/// The whole virtual-host file, validated: what one generation of workers serves.
///
/// ```yaml
/// listen: [{ port: 8080 }]      # required; see ListenerConfig
/// workers: 1                    # processes, each multi-threaded; 1...1024, default 1
/// threads: auto                 # event loops per worker: auto (one per core) or 1...1024
/// user: www-data                # workers switch to this account; see RunAsConfig
/// group: www-data               # default: the user's primary group
/// pid_file: /run/berth.pid      # default berth.pid next to this file; off: none
/// admin: { port: 9090 }         # /metrics and /health; off unless given; see AdminConfig
/// drain_timeout: 10s            # how long a stop or reload waits for in-flight responses
/// websocket_drain: 1h           # how long a reload leaves the old generation's WebSockets open
/// limits: { body_bytes: 10MiB } # see Limits
/// compression_cache: 16MiB     # compressed variants of static files kept per worker; 0: none
/// logs: { access: "-" }         # see LogConfig
/// apps: { }                     # see AppConfig
/// acme: { email: a@b.org }      # certificates for `tls: auto` hosts; see ACMEConfig
/// hosts: { }                    # required; see VirtualHostConfig
/// ```
/// Relative paths anywhere in the file are relative to the file's own folder. YAML anchors,
/// aliases and merge keys (`<<: *defaults`) work everywhere.
public struct ServerConfig: Sendable, Equatable, Codable {
    /// The absolute path of the file this was read from.
    public var sourceFile: String
    public var listeners: [ListenerConfig]
    public var workers: Int
    /// nil: "auto", one event loop per core.
    public var threads: Int?
    public var limits: Limits
    public var logs: LogConfig
    /// In file order.
    public var hosts: [VirtualHostConfig]
    /// In file order.
    public var apps: [AppConfig]
    /// Findings that do not prevent serving, sorted by line and column.
    public var warnings: [ConfigError]
    /// nil: the workers keep the account berth was started as.
    public var runAs: RunAsConfig? = nil
    public var pidFile: PidFileSetting = .nextToConfig
    /// nil: no admin endpoint.
    public var admin: AdminConfig? = nil
    /// How long a graceful stop, or an old generation after a reload, lets in-flight responses
    /// finish before their connections are closed. Zero closes them at once.
    public var drainTimeout: Duration = .seconds(10)
    /// How long an old generation's WebSocket connections stay open after a reload: they are
    /// long-lived by nature, so they keep their generation until they close or this passes
    /// (then they get a close frame, 1001). New connections reach the new generation at once.
    public var webSocketDrain: Duration = .seconds(3600)
    /// nil: no `acme:` block, so no host may say `tls: auto`.
    public var acme: ACMEConfig? = nil

    /// Where managed certificates (`tls: auto` and `tls: internal`) and the local CA live:
    /// the `acme:` block's `storage`, else `acme` next to this file.
    public var managedTLSStorage: String {
        acme?.storage ?? ConfigPath.resolve("acme", against: ConfigPath.folder(of: sourceFile))
    }
    /// The bound of each worker's cache of compressed static files (least recently used
    /// go first); zero keeps none, so each compressed answer of a file is compressed anew.
    public var compressionCache = 16 * 1024 * 1024

    public init(sourceFile: String, listeners: [ListenerConfig], workers: Int = 1, threads: Int? = nil,
                limits: Limits = Limits(), logs: LogConfig = LogConfig(),
                hosts: [VirtualHostConfig], apps: [AppConfig] = [], warnings: [ConfigError] = []) {
        self.sourceFile = sourceFile
        self.listeners = listeners
        self.workers = workers
        self.threads = threads
        self.limits = limits
        self.logs = logs
        self.hosts = hosts
        self.apps = apps
        self.warnings = warnings
    }

    /// The host for a name, as the server matches it: exact names and aliases, then the
    /// longest matching wildcard, then the default host. `name` is a Host header without port.
    public func host(named name: String) -> VirtualHostConfig? {
        let name = name.lowercased()
        if let exact = hosts.first(where: { $0.name == name || $0.aliases.contains(name) }) {
            return exact
        }
        var best: (host: VirtualHostConfig, length: Int)?
        for host in hosts {
            for pattern in [host.name] + host.aliases where pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst()
                if name.hasSuffix(suffix), name.count > suffix.count, suffix.count > best?.length ?? 0 {
                    best = (host, suffix.count)
                }
            }
        }
        return best?.host ?? hosts.first(where: \.isDefault)
    }
}
