@_spi(BerthServer) import BerthApp
import BerthConfig
@_spi(BerthServer) import BerthPlugins
import BerthServer
import Foundation
import Logging

/// Readies the apps of a configuration: builds stale packages, checks every library in a
/// child process, and — when serving — loads and starts them in this process.
enum AppLoading {
    /// The command that probes a library in a child: this very binary, so the child has the
    /// same copy of the app API the server has.
    static let probe = ["/proc/self/exe", "probe-app"]

    static func source(of app: AppConfig) -> BerthPlugins.AppSource {
        switch app.source {
        case .package(let directory, let product): return .package(directory: directory, product: product)
        case .library(let path): return .library(path: path)
        }
    }

    /// Builds and checks every app; collects every refusal instead of stopping at the first.
    static func prepare(_ config: ServerConfig, logger: Logger) -> (paths: [String: String], errors: [String]) {
        var paths: [String: String] = [:]
        var errors: [String] = []
        for app in config.apps {
            do {
                paths[app.name] = try AppLibrary.prepare(
                    name: app.name, source: self.source(of: app), probe: self.probe,
                    buildLog: { line in logger.debug("\(line)", metadata: ["app.name": "\(app.name)"]) })
            } catch {
                errors.append("\(app.location): \(error)")
            }
        }
        return (paths, errors)
    }

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
            endpoints[app.name] = AppEndpoint(name: app.name, app: loaded, requestTimeout: app.requestTimeout, logger: sink)
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
        case .library(let path): return (path as NSString).deletingLastPathComponent
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
