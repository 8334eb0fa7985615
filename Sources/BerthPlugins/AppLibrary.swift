/// Where an app's library comes from, as the virtual-host file says.
public enum AppSource: Sendable, Equatable {
    /// A Swift package to build (`package:` and `product:`); the library is
    /// `<directory>/.build/release/lib<product>.so`.
    case package(directory: String, product: String)
    /// A library built elsewhere (`library:`). Deploy a new version by writing a new file and
    /// renaming it over this path, never by rewriting it in place.
    case library(path: String)
}

/// Readying an app library for the workers: build it if needed, then check it without
/// trusting it. Runs in the master (and in `berth check`), which never loads apps itself.
public enum AppLibrary {
    /// Builds (for a package) and checks the library of app `name`, and returns the path the
    /// workers should load with ``LoadedApp/load(name:libraryPath:)``.
    ///
    /// - Parameters:
    ///   - probe: the command that runs ``AppProbe/run(libraryPath:)`` in a child process; the
    ///     library path is appended. berth passes `[".../berth-worker", "probe-app"]`.
    ///   - probeTimeoutSeconds: how long the probe may take before the app is refused.
    ///   - swift: the `swift` executable used to build packages.
    ///   - forceBuild: run `swift build` for a package even when its library looks up to date.
    ///   - buildLog: receives `swift build`'s output line by line while it runs.
    public static func prepare(
        name: String,
        source: AppSource,
        probe: [String],
        probeTimeoutSeconds: Int = 60,
        swift: String = "swift",
        forceBuild: Bool = false,
        buildLog: ((String) -> Void)? = nil
    ) throws(AppLoadError) -> String {
        let path: String
        switch source {
        case .package(let directory, let product):
            path = try AppBuilder.build(app: name, packageDirectory: directory, product: product,
                                        swift: swift, force: forceBuild, log: buildLog)
        case .library(let library):
            path = library
        }
        _ = try verify(name: name, libraryPath: path, probe: probe, probeTimeoutSeconds: probeTimeoutSeconds)
        return path
    }

    /// Checks a library without building: its file, then a probe in a child process. Returns
    /// the app's type name (e.g. `NotesApp.NotesApp`).
    public static func verify(
        name: String,
        libraryPath: String,
        probe: [String],
        probeTimeoutSeconds: Int = 60
    ) throws(AppLoadError) -> String {
        if let problem = LibraryFileCheck.problem(at: libraryPath) {
            throw AppLoadError(app: name, file: libraryPath, reason: problem)
        }
        return try AppProbe.verify(app: name, libraryPath: libraryPath, probe: probe,
                                   timeoutSeconds: probeTimeoutSeconds)
    }
}
