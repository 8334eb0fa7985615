import BerthConfig
@_spi(BerthServer) import BerthPlugins
import BerthProcess
import Dispatch
import Logging

/// What a change to a watched file means under `berth dev`.
enum DevChange: Hashable, Sendable {
    /// The virtual-host file, or a file it names that a generation reads once at its start
    /// (an error page, a certificate or key): a reload picks it up.
    case configuration
    /// The manifest or sources of an app's package (or of a local package it depends on):
    /// the app is rebuilt, then reloaded. The associated value is the app's package folder.
    case appSources(String)
    /// A static root itself appeared, went or was replaced (`rm -rf public && vite build`):
    /// workers hold the old directory open, so a reload opens the new one. Files under a
    /// root need nothing: they are served from disk, and the open-file cache revalidates each
    /// with `fstatat` (once per event-loop tick, see `StatusMemo`).
    case staticRoot
}

/// `berth dev`'s state in the master: the watcher, the burst of changes being gathered, and
/// the packages to rebuild at the next reload. Touched on the master's queue only.
struct DevLoop {
    /// A change and the path it was seen at (for the log line that explains the reload).
    struct Event: Hashable {
        var change: DevChange
        var path: String
    }

    let watcher: FileWatcher<DevChange>
    var burst = ChangeBurst<Event>()
    /// Package folders whose sources changed since their last build, each with a count of
    /// the bursts it was in: built at the next reload even when their library looks up to
    /// date. A reload refused before building keeps them for the next one.
    var changedPackages: [String: Int] = [:]

    /// A reload built the packages that had changed when it began (`seen`); those that
    /// changed again meanwhile are built once more by the reload that follows.
    mutating func built(_ seen: [String: Int]) {
        for (package, count) in seen where self.changedPackages[package] == count {
            self.changedPackages[package] = nil
        }
    }

    /// What to watch for a configuration.
    static func targets(of config: ServerConfig) -> Set<WatchTarget<DevChange>> {
        var targets: Set<WatchTarget<DevChange>> = [.entry(path: config.sourceFile, meaning: .configuration)]
        for host in config.hosts {
            if let tls = host.tls {
                targets.insert(.entry(path: tls.certificate, meaning: .configuration))
                targets.insert(.entry(path: tls.key, meaning: .configuration))
            }
            for route in host.routes {
                for page in route.errorPages.values { targets.insert(.entry(path: page, meaning: .configuration)) }
                if case .staticFiles(let files) = route.handler {
                    targets.insert(.entry(path: files.root, meaning: .staticRoot))
                }
            }
        }
        for app in config.apps {
            guard case .package(let directory, _) = app.source else {
                continue
            }
            for package in AppBuilder.packageDirectories(of: directory) {
                targets.insert(.entry(path: package + "/Package.swift", meaning: .appSources(directory)))
                targets.insert(.entry(path: package + "/Sources", meaning: .appSources(directory)))
                targets.insert(.tree(path: package + "/Sources", meaning: .appSources(directory)))
            }
        }
        return targets
    }

    /// Files editors and tools write beside sources without them being sources: swap and
    /// backup files, vim's write test, hidden files. Saving a source writes one of these
    /// first; building for them would build twice.
    static func isScratch(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return name.hasPrefix(".") || name.hasSuffix("~") || name.hasSuffix(".swp") || name.hasSuffix(".swx") || name == "4913"
    }
}

/// `berth dev`: the master watches the virtual-host file, what it names, and the apps'
/// sources, and reloads when they change. A reload is the one way new code is served (a new
/// generation loads the rebuilt library; see DESIGN.md), so the dev loop adds no second path:
/// it decides when to reload and which apps to build even if they look up to date.
extension Master {
    func startDevLoop(_ plan: ConfigurationPlan) throws {
        let watcher = try FileWatcher<DevChange> { change, path in
            self.queue.async { self.noticed(change, path: path) }
        }
        self.devLoop = DevLoop(watcher: watcher)
        self.watchFiles(of: plan)
        self.logger.notice("watching for changes", metadata: ["config.file": "\(self.configFile)"])
    }

    /// Watches what `plan` names from now on (called when a generation starts serving; a
    /// refused reload keeps the previous set, which includes the virtual-host file).
    func watchFiles(of plan: ConfigurationPlan) {
        guard let loop = self.devLoop else { return }
        for problem in loop.watcher.watch(DevLoop.targets(of: plan.config)) {
            self.logger.warning("cannot watch for changes: \(problem)")
        }
    }

    private func noticed(_ change: DevChange, path: String) {
        guard self.stopMode == nil, var loop = self.devLoop else { return }
        if case .appSources = change, DevLoop.isScratch(path) { return }
        let deadline = loop.burst.record(DevLoop.Event(change: change, path: path), at: Self.now())
        self.devLoop = loop
        self.queue.asyncAfter(deadline: .now() + max(0, deadline - Self.now())) { self.burstMayBeOver() }
    }

    private func burstMayBeOver() {
        guard self.stopMode == nil, var loop = self.devLoop, !loop.burst.isEmpty else { return }
        guard let events = loop.burst.due(at: Self.now()) else { return }
        for case .appSources(let package) in Set(events.map(\.change)) { loop.changedPackages[package, default: 0] += 1 }
        self.devLoop = loop
        var paths: [String] = []
        for event in events where !paths.contains(event.path) { paths.append(event.path) }
        let shown = paths.prefix(5).joined(separator: " ") + (paths.count > 5 ? " (and \(paths.count - 5) more)" : "")
        self.logger.notice("files changed", metadata: ["dev.changed": "\(shown)"])
        self.reload()
    }
}
