internal import Yams

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
/// limits: { body_bytes: 10MiB } # see Limits
/// logs: { access: "-" }         # see LogConfig
/// apps: { }                     # see AppConfig
/// hosts: { }                    # required; see VirtualHostConfig
/// ```
/// Relative paths anywhere in the file are relative to the file's own folder. YAML anchors,
/// aliases and merge keys (`<<: *defaults`) work everywhere.
public struct ServerConfig: Sendable, Equatable {
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

extension ConfigReader {
    static let topLevelKeys = ["listen", "workers", "threads", "user", "group", "pid_file", "admin",
                               "drain_timeout", "limits", "logs", "apps", "hosts"]

    func readServer(_ root: Node, sourceFile: String) -> ServerConfig {
        var config = ServerConfig(sourceFile: sourceFile, listeners: [], hosts: [])
        let context = "at the top level"
        guard let fields = fields(of: root, expected: "a mapping with 'listen' and 'hosts'",
                                  context: context, allowed: ConfigReader.topLevelKeys)
        else { return config }
        if let listen = required("listen", in: fields, context: context,
                                 expected: "a list of listeners like [{ port: 8080 }]") {
            config.listeners = readListeners(listen)
        }
        if let workers = fields["workers"] {
            config.workers = integer(workers, in: 1...1024) ?? config.workers
        }
        if let threads = fields["threads"], threads.scalar?.string != "auto" {
            config.threads = integer(threads, in: 1...1024,
                                     expected: "'auto' or an integer from 1 to 1024")
        }
        if fields.contains("user") || fields.contains("group") {
            config.runAs = readRunAs(user: fields["user"], group: fields["group"])
        }
        if let pidFile = fields["pid_file"] { config.pidFile = readPidFile(pidFile) ?? config.pidFile }
        if let admin = fields["admin"] { config.admin = readAdmin(admin, listeners: config.listeners) }
        if let drain = fields["drain_timeout"] { config.drainTimeout = duration(drain, allowZero: true) ?? config.drainTimeout }
        if let limits = fields["limits"] { config.limits = readLimits(limits) }
        if let logs = fields["logs"] { config.logs = readLogs(logs) }
        if let apps = fields["apps"] {
            (config.apps, declaredApps) = readApps(apps)
        }
        if let hosts = required("hosts", in: fields, context: context,
                                expected: "a mapping of host names to hosts") {
            config.hosts = readHosts(hosts)
        }
        checkTLS(config)
        for app in config.apps where !referencedApps.contains(app.name) {
            warning("app '\(app.name)' is not used by any host", at: app.location)
        }
        return config
    }

    /// Certificates come from the hosts (SNI), so a TLS listener with no certificate anywhere
    /// could never complete a handshake.
    private func checkTLS(_ config: ServerConfig) {
        let tlsListeners = config.listeners.filter(\.tls)
        if hostsWithTLSKey == 0 {
            for listener in tlsListeners {
                error("listener is marked tls but no host has a certificate; add "
                      + "'tls: { certificate: ..., key: ... }' to a host", at: listener.location)
            }
        }
        if tlsListeners.isEmpty && !config.listeners.isEmpty {
            for host in config.hosts where host.tls != nil {
                // A redirect to a port nothing listens on would take the site offline.
                if host.tls!.redirectHTTP {
                    error("host '\(host.name)' has 'redirect_http: true' but no listener is marked "
                          + "'tls: true'; add one like '- { port: 8443, tls: true }'", at: host.tls!.location)
                } else {
                    warning("host '\(host.name)' has a certificate but no listener is marked 'tls: true'; "
                            + "it is served over plain HTTP only", at: host.tls!.location)
                }
            }
        }
    }
}
