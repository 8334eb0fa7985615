import BerthConfig
import BerthStatic
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOHTTP1

/// Everything a connection needs to answer requests under one configuration: the host
/// table, limits and logs. Immutable; a reload builds a new one.
final class SiteGeneration: Sendable {
    let hosts: HostTable
    let limits: ConnectionLimits
    let accessLog: AccessLog?
    /// Every access log of the generation (global and per host), for log rotation.
    let allAccessLogs: [AccessLog]
    let logger: Logger
    let serverName: String
    /// Requests answered under this generation, by host, route and status class.
    let metrics = RequestMetrics()
    /// Compressed variants of static files (`compression_cache`).
    let variants: VariantCache
    /// Where ACME HTTP-01 answers appear while `tls: auto` hosts are validated; nil without such hosts.
    let challenges: ACMEChallengeFiles?
    /// The server's open connections: a connection that switches to WebSocket is marked
    /// long-lived there, so a drain leaves it open longer.
    let connections: ConnectionRegistry

    init(hosts: [VirtualHost], limits: ConnectionLimits, accessLog: AccessLog?, allAccessLogs: [AccessLog], logger: Logger,
         serverName: String = "berth", compressionCache: Int = 16 * 1024 * 1024, challenges: ACMEChallengeFiles? = nil,
         connections: ConnectionRegistry = ConnectionRegistry(maxConnections: .max)) {
        self.connections = connections
        self.variants = VariantCache(capacity: compressionCache)
        self.challenges = challenges
        self.hosts = HostTable(hosts: hosts)
        self.limits = limits
        self.accessLog = accessLog
        self.allAccessLogs = allAccessLogs
        self.logger = logger
        self.serverName = serverName
    }
}

/// The small built-in bodies of error responses, for routes without a custom page.
enum BuiltInErrorPage {
    static func body(for status: HTTPResponseStatus, allocator: ByteBufferAllocator) -> ByteBuffer {
        let title = "\(status.code) \(status.reasonPhrase)"
        return allocator.buffer(string: """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(title)</title></head>
            <body><h1>\(title)</h1><hr><p>berth</p></body></html>

            """)
    }
}

/// Turns a validated configuration into a `SiteGeneration`: opens static roots, reads
/// error pages, opens access logs (one per distinct file).
struct SiteGenerationBuilder {
    let config: ServerConfig
    /// Nil when only validating (`berth check`): app routes are then skipped.
    let apps: [String: AppEndpoint]?
    /// Apps that did not build under `berth dev`, with the compiler's output: their routes
    /// answer 503 with it.
    let unbuiltApps: [String: String]
    let logger: Logger
    /// Where `redirect_http` hosts send plain-HTTP requests; the server fills in a bound port.
    var httpsPort = HTTPSPort()
    /// The server's connection registry, which the generation's connections report to.
    var connections = ConnectionRegistry(maxConnections: .max)
    private var logs: [(destination: LogDestination, log: AccessLog)] = []

    init(config: ServerConfig, apps: [String: AppEndpoint]?, unbuiltApps: [String: String] = [:], logger: Logger) {
        self.config = config
        self.apps = apps
        self.unbuiltApps = unbuiltApps
        self.logger = logger
    }

    mutating func build() throws -> SiteGeneration {
        let global = try self.accessLog(self.config.logs.access)
        var hosts: [VirtualHost] = []
        for host in self.config.hosts {
            let routes = try host.routes.compactMap { try self.route($0, host: host) }
            hosts.append(VirtualHost(
                name: host.name,
                names: [host.name] + host.aliases,
                isDefault: host.isDefault,
                routes: routes,
                accessLog: try host.accessLog.flatMap { try self.accessLog($0) },
                httpsRedirect: (host.tls?.redirectHTTP ?? host.managedTLS?.redirectHTTP) == true ? HTTPSRedirect(port: self.httpsPort) : nil,
                hsts: host.tls?.hsts ?? host.managedTLS?.hsts
            ))
        }
        return SiteGeneration(
            hosts: hosts,
            limits: ConnectionLimits(self.config.limits),
            accessLog: global,
            allAccessLogs: self.logs.map(\.log),
            logger: self.logger,
            compressionCache: self.config.compressionCache,
            challenges: self.config.hosts.contains { $0.managedTLS?.issuer == .acme }
                ? ACMEChallengeFiles(folder: ManagedTLSLayout(config: self.config).http01Folder) : nil,
            connections: self.connections
        )
    }

    private mutating func accessLog(_ destination: LogDestination) throws -> AccessLog? {
        if destination == .off { return nil }
        if let known = self.logs.first(where: { $0.destination == destination }) { return known.log }
        let log = try AccessLog(destination: destination, format: self.config.logs.format)
        self.logs.append((destination, log))
        return log
    }

    private func route(_ route: PathRouteConfig, host: VirtualHostConfig) throws -> PathRoute? {
        var handlers: [any RouteHandler] = []
        switch route.handler {
        case .staticFiles(let config):
            let site: StaticSite
            do {
                // Hot files' fields are prepared as HTTP/2 blocks too, once per open file.
                site = try StaticSite(options: config, fieldBlock: { HPACKPreparedFields($0.map { (name: $0.0, value: $0.1) }).bytes })
            } catch {
                throw SiteError(message: "\(route.location): host '\(host.name)', path '\(route.prefix)': cannot open static directory '\(config.root)': \(error)")
            }
            handlers.append(StaticHandler(site: site))
            // `fallback:` names the app that answers what no file does.
            if let name = config.fallbackApp, let handler = try self.appHandler(named: name, route: route, host: host) {
                handlers.append(handler)
            }
        case .redirect(let redirect):
            handlers.append(RedirectHandler(redirect: redirect))
        case .app(let app):
            guard let handler = try self.appHandler(named: app.app, route: route, host: host) else { return nil }
            handlers.append(handler)
        }
        var pages: [Int: ErrorPage] = [:]
        for (status, path) in route.errorPages {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SiteError(message: "\(route.location): host '\(host.name)': cannot read error page '\(path)' for status \(status)")
            }
            let name = path.split(separator: "/").last ?? ""
            let ext = name.dropFirst().contains(".") ? String(name.split(separator: ".").last ?? "").lowercased() : ""
            pages[status] = ErrorPage(body: ByteBuffer(bytes: data), contentType: MIMETypes.standard.type(forExtension: ext))
        }
        return PathRoute(
            prefix: route.prefix,
            handlers: handlers,
            headers: route.headers.map { ($0.name, $0.value) },
            errorPages: pages,
            compression: CompressionSettings(route: route)
        )
    }

    private func appHandler(named name: String, route: PathRouteConfig, host: VirtualHostConfig) throws -> (any RouteHandler)? {
        guard let apps = self.apps else { return nil }
        if let reason = self.unbuiltApps[name] { return UnbuiltAppHandler(app: name, reason: reason) }
        guard let app = apps[name] else {
            throw SiteError(message: "\(route.location): host '\(host.name)', path '\(route.prefix)': app '\(name)' is not loaded")
        }
        return AppHandler(endpoint: app)
    }
}

/// A configuration that validated but could not be put into service.
public struct SiteError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}
