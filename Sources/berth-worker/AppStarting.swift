@_spi(BerthServer) import BerthApp
import BerthConfig
@_spi(BerthServer) import BerthPlugins
import BerthAppLoader
import BerthServer
import Logging

/// Loads and starts a worker's apps in this process, from the libraries the master built and
/// probed.
enum AppStarting {
    /// Loads and starts the prepared apps; the hosts that route to each app are in its context.
    static func start(_ config: ServerConfig, paths: [String: String], logger: Logger) async throws -> [String: AppEndpoint] {
        var endpoints: [String: AppEndpoint] = [:]
        for app in config.apps {
            guard let path = paths[app.name] else { continue }
            let loaded = try LoadedApp.load(name: app.name, libraryPath: path)
            var appLogger = logger
            appLogger[metadataKey: "app.name"] = "\(app.name)"
            let sink = appLogger
            let context = AppContext(
                name: app.name,
                hosts: self.hosts(using: app.name, in: config),
                root: self.root(of: app),
                settings: self.settings(app.settings),
                logger: AppLogger { level, message, metadata in
                    sink.log(level: self.level(level), "\(message)", metadata: metadata.mapValues { .string($0) })
                })
            try await loaded.start(context: context)
            endpoints[app.name] = AppEndpoint(name: app.name, app: loaded, requestTimeout: app.requestTimeout,
                                             webSocket: app.webSocket, logger: sink)
            logger.notice("app started", metadata: ["app.name": "\(app.name)", "app.library": "\(path)"])
        }
        return endpoints
    }

    static func stop(_ endpoints: [String: AppEndpoint]) async {
        for endpoint in endpoints.values { await endpoint.stop() }
    }

    private static func hosts(using app: String, in config: ServerConfig) -> [String] {
        config.hosts.filter { host in
            host.routes.contains { route in
                switch route.handler {
                case .app(let target): return target.app == app
                case .staticFiles(let files): return files.fallbackApp == app
                case .redirect: return false
                }
            }
        }.map(\.name)
    }

    private static func root(of app: AppConfig) -> String {
        switch app.source {
        case .package(let directory, _): return directory
        case .library(let path):
            guard let slash = path.lastIndex(of: "/") else { return "." }
            return slash == path.startIndex ? "/" : String(path[..<slash])
        }
    }

    static func settings(_ value: SettingValue) -> [String: AppSetting] {
        guard case .dictionary(let entries) = value else { return [:] }
        return entries.mapValues(self.setting)
    }

    private static func setting(_ value: SettingValue) -> AppSetting {
        switch value {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .array(let items): return .array(items.map(self.setting))
        case .dictionary(let entries): return .dictionary(entries.mapValues(self.setting))
        case .null: return .null
        }
    }

    private static func level(_ level: AppLogger.Level) -> Logger.Level {
        switch level {
        case .trace: return .trace
        case .debug: return .debug
        case .info: return .info
        case .notice: return .notice
        case .warning: return .warning
        case .error: return .error
        case .critical: return .critical
        @unknown default: return .info
        }
    }
}
