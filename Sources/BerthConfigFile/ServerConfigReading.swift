internal import Yams
import BerthConfig

extension ConfigReader {
    static let topLevelKeys = ["listen", "workers", "threads", "user", "group", "pid_file", "admin",
                               "drain_timeout", "websocket_drain", "limits", "compression_cache", "logs", "apps",
                               "acme", "hosts"]

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
        if let drain = fields["websocket_drain"] {
            config.webSocketDrain = duration(drain, allowZero: true) ?? config.webSocketDrain
        }
        if let limits = fields["limits"] { config.limits = readLimits(limits) }
        if let cache = fields["compression_cache"] {
            config.compressionCache = size(cache, minimum: 0) ?? config.compressionCache
        }
        if let logs = fields["logs"] { config.logs = readLogs(logs) }
        if let apps = fields["apps"] {
            (config.apps, declaredApps) = readApps(apps)
        }
        if let acme = fields["acme"] { config.acme = readACME(acme) }
        if let hosts = required("hosts", in: fields, context: context,
                                expected: "a mapping of host names to hosts") {
            config.hosts = readHosts(hosts)
        }
        checkTLS(config)
        if !fields.contains("acme") || config.acme != nil { checkManagedTLS(config) }
        for app in config.apps where !referencedApps.contains(app.name) {
            warning("app '\(app.name)' is not used by any host", at: app.location)
        }
        return config
    }

    /// Certificates come from the hosts (SNI), so a TLS listener with no certificate anywhere
    /// could never complete a handshake.
    private func checkTLS(_ config: ServerConfig) {
        let tlsListeners = config.listeners.filter(\.tls)
        // Managed hosts (`tls: auto`, `tls: internal`) bring their own certificates, issued at
        // run time; until then a self-signed placeholder completes their handshakes.
        if hostsWithTLSKey == 0 && !config.hosts.contains(where: { $0.managedTLS != nil }) {
            for listener in tlsListeners {
                error("listener is marked tls but no host has a certificate; add "
                      + "'tls: { certificate: ..., key: ... }' or 'tls: auto' to a host", at: listener.location)
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
            for host in config.hosts {
                guard let managed = host.managedTLS else { continue }
                if managed.redirectHTTP {
                    error("host '\(host.name)' has 'redirect_http: true' but no listener is marked "
                          + "'tls: true'; add one like '- { port: 443, tls: true }'", at: managed.location)
                } else {
                    warning("host '\(host.name)' has 'tls: \(managed.issuer.rawValue)' but no listener is marked "
                            + "'tls: true'; its certificate is kept but served nowhere", at: managed.location)
                }
            }
        }
    }
}
