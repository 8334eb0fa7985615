import BerthConfig
@_spi(BerthServer) import BerthPlugins
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

/// Readies the apps of a configuration for workers: builds stale packages and checks every
/// library in a child process. The master never loads an app itself.
enum AppLoading {
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
                    name: app.name, source: self.source(of: app), probe: WorkerBinary.probe,
                    buildLog: { line in logger.debug("\(line)", metadata: ["app.name": "\(app.name)"]) })
            } catch {
                errors.append("\(app.location): \(error)")
            }
        }
        return (paths, errors)
    }
}
