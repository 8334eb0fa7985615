import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Builds an app package with `swift build` when its library is missing or older than its
/// sources, and hands out a versioned copy of the library.
///
/// The copy matters: a worker has the library mapped, and rewriting a mapped `.so` in place
/// crashes it. `swift build` rewrites `libPRODUCT.so` in place, so workers only ever load a
/// copy named after its content, written to a temporary name and renamed into place.
public enum AppBuilder {
    /// Builds if needed and returns the path of the versioned copy to load. `log` receives the
    /// build's output line by line as it runs. `force` runs `swift build` even when the library
    /// looks newer than its sources: a file saved while a build was compiling may be older than
    /// the library that build linked, yet not in it (SwiftPM's own checks then decide).
    public static func build(
        app: String,
        packageDirectory: String,
        product: String,
        swift: String = "swift",
        force: Bool = false,
        log: ((String) -> Void)? = nil
    ) throws(AppLoadError) -> String {
        let directory = URL(fileURLWithPath: packageDirectory).standardizedFileURL.path
        let library = builtLibraryPath(packageDirectory: directory, product: product)
        let lock = BuildLock(packageDirectory: directory)
        defer { lock.release() }
        let inputs = inputFiles(packageDirectory: directory)
        let lastBuild = InputList(packageDirectory: directory)
        let inputsChanged = lastBuild.differs(from: inputs)
        if force || inputsChanged || isStale(library: library, inputs: inputs) {
            if inputsChanged { lastBuild.dropPlan() }
            try runBuild(app: app, directory: directory, product: product, swift: swift, log: log)
            guard FileManager.default.fileExists(atPath: library) else {
                throw AppLoadError(app: app, file: library, reason: .buildFailed(
                    "it succeeded but did not produce this file; is \(product) a .dynamic library product?",
                    lastLines: []))
            }
            lastBuild.record(inputs)
        }
        do {
            return try installVersionedCopy(of: library)
        } catch {
            throw AppLoadError(app: app, file: library, reason: .copyFailed("\(error)"))
        }
    }

    /// Where `swift build -c release` puts a dynamic library product.
    public static func builtLibraryPath(packageDirectory: String, product: String) -> String {
        packageDirectory + "/.build/release/lib\(product).so"
    }

    /// The package folder and those of the local packages it depends on by path: what to
    /// watch for changes that call for a rebuild.
    public static func packageDirectories(of packageDirectory: String) -> [String] {
        var seen: [String] = []
        var pending = [URL(fileURLWithPath: packageDirectory).standardizedFileURL.path]
        while let directory = pending.popLast() {
            guard !seen.contains(directory) else { continue }
            seen.append(directory)
            for dependency in localDependencies(manifest: directory + "/Package.swift") {
                let url = URL(fileURLWithPath: dependency, relativeTo: URL(fileURLWithPath: directory + "/"))
                pending.append(url.standardizedFileURL.path)
            }
        }
        return seen
    }

    /// Whether `library` is missing or older than any of `inputs`.
    static func isStale(library: String, inputs: [String]) -> Bool {
        guard let built = modificationTime(library) else { return true }
        return inputs.contains { (modificationTime($0) ?? .max) > built }
    }

    /// The files whose change calls for a rebuild: the manifest and sources of the package and
    /// of the local packages it depends on by path (BerthApp among them), since `swift build`
    /// would recompile for those too.
    static func inputFiles(packageDirectory: String) -> [String] {
        packageDirectories(of: packageDirectory).flatMap { directory in
            [directory + "/Package.swift"] + filesUnder(directory + "/Sources")
        }
    }

    /// The `path:` of each `.package(path: "…")` (or `.package(name: "…", path: "…")`) in a
    /// manifest; a plain text match is enough since manifests spell local dependencies this
    /// one way. Scanned by hand: a regex would bring the regex engine into the master.
    static func localDependencies(manifest: String) -> [String] {
        guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else { return [] }
        /// The contents of the string literal `arguments` starts with, and what follows it.
        func quoted(_ arguments: Substring) -> (value: Substring, rest: Substring)? {
            guard arguments.first == "\"" else { return nil }
            let body = arguments.dropFirst()
            guard let close = body.firstIndex(of: "\"") else { return nil }
            return (body[..<close], body[body.index(after: close)...])
        }
        var paths: [String] = []
        var rest = Substring(text)
        while let call = rest.firstRange(of: ".package(") {
            rest = rest[call.upperBound...]
            var arguments = rest.drop(while: \.isWhitespace)
            if arguments.hasPrefix("name:") {
                guard let name = quoted(arguments.dropFirst(5).drop(while: \.isWhitespace)) else { continue }
                arguments = name.rest.drop(while: \.isWhitespace)
                guard arguments.first == "," else { continue }
                arguments = arguments.dropFirst().drop(while: \.isWhitespace)
            }
            guard arguments.hasPrefix("path:"),
                  let path = quoted(arguments.dropFirst(5).drop(while: \.isWhitespace)), !path.value.isEmpty
            else { continue }
            paths.append(String(path.value))
        }
        return paths
    }

    private static func filesUnder(_ directory: String) -> [String] {
        guard let paths = try? FileManager.default.subpathsOfDirectory(atPath: directory) else { return [] }
        return paths.map { directory + "/" + $0 }
    }

    private static func modificationTime(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }

    private static func runBuild(
        app: String, directory: String, product: String, swift: String, log: ((String) -> Void)?
    ) throws(AppLoadError) {
        let arguments = [swift, "build", "-c", "release", "--product", product, "--package-path", directory]
        var pending: [UInt8] = []
        var lastLines: [String] = []
        func take(_ line: String) {
            log?(line)
            lastLines.append(line)
            if lastLines.count > 20 { lastLines.removeFirst() }
        }
        let termination: ChildProcess.Termination
        do {
            termination = try ChildProcess.run(arguments) { chunk in
                pending += chunk
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    take(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
        } catch {
            throw AppLoadError(app: app, file: directory, reason: .buildNotStarted(error.message))
        }
        if !pending.isEmpty { take(String(decoding: pending, as: UTF8.self)) }
        guard termination == .exited(0) else {
            throw AppLoadError(app: app, file: directory,
                               reason: .buildFailed("`\(arguments.joined(separator: " "))`: \(termination)", lastLines: lastLines))
        }
    }

    /// Copies `library` to `lib<name>.<content hash>.so` beside it, unless that copy exists,
    /// and removes all but the newest few older copies.
    static func installVersionedCopy(of library: String) throws -> String {
        let source = URL(fileURLWithPath: library)
        let contents = try Data(contentsOf: source)
        let stem = source.deletingPathExtension().lastPathComponent
        let folder = source.deletingLastPathComponent()
        let versioned = folder.appendingPathComponent("\(stem).\(contentHash(contents)).so")
        let manager = FileManager.default
        if let existing = try? manager.attributesOfItem(atPath: versioned.path),
           (existing[.size] as? Int) == contents.count {
            // Touch it so pruning by age keeps the copy that is in use.
            try? manager.setAttributes([.modificationDate: Date()], ofItemAtPath: versioned.path)
        } else {
            let temporary = folder.appendingPathComponent(".\(stem).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp")
            do {
                try contents.write(to: temporary)
                guard rename(temporary.path, versioned.path) == 0 else {
                    throw RenameFailure(target: versioned.path, reason: String(cString: strerror(errno)))
                }
            } catch {
                try? manager.removeItem(at: temporary)
                throw error
            }
        }
        pruneOldCopies(stem: stem, in: folder, keeping: 4)
        return versioned.path
    }

    /// Old copies go, but not the newest few: a worker of the previous generation, or one
    /// still starting, may be about to load one. Unlinking a mapped file is harmless.
    private static func pruneOldCopies(stem: String, in folder: URL, keeping: Int) {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: folder.path) else { return }
        let copies = names.filter { $0.hasPrefix(stem + ".") && $0.hasSuffix(".so") && $0 != stem + ".so" }
            .map { folder.appendingPathComponent($0).path }
            .sorted { (modificationTime($0) ?? 0) > (modificationTime($1) ?? 0) }
        for old in copies.dropFirst(keeping) {
            try? manager.removeItem(atPath: old)
        }
    }

    /// FNV-1a, 64 bits, in hex: a name, not a security measure.
    static func contentHash(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { bytes in
            for byte in bytes {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The input files of an app's last good build, kept beside it in `.build`.
///
/// SwiftPM plans a build again when files are added to or removed from the root package, but
/// not from a package it depends on by path (BerthApp, or an app's own local packages): it then
/// compiles the old list of files, and fails with "cannot find … in scope" for a new file or
/// "missing inputs" for one that went. When the list differs from the last build's, the plan
/// (`.build/release.yaml`) is removed, and `swift build` makes a new one.
struct InputList {
    let packageDirectory: String

    private var path: String { packageDirectory + "/.build/berth-input-files" }

    private static func text(_ inputs: [String]) -> String {
        inputs.sorted().joined(separator: "\n") + "\n"
    }

    /// Whether `inputs` are other files than the last good build's (or no build was recorded).
    func differs(from inputs: [String]) -> Bool {
        guard let recorded = try? Data(contentsOf: URL(fileURLWithPath: path)) else { return true }
        return String(decoding: recorded, as: UTF8.self) != Self.text(inputs)
    }

    /// Removes SwiftPM's plan of the release build, so the next build plans afresh.
    func dropPlan() {
        unlink(packageDirectory + "/.build/release.yaml")
    }

    func record(_ inputs: [String]) {
        try? Data(Self.text(inputs).utf8).write(to: URL(fileURLWithPath: path))
    }
}

/// Builds of one package by several Berth processes (a test suite's servers, `berth run` beside
/// `berth dev`) take turns. Deciding what changed, removing a stale plan and `swift build`
/// happen under one lock, `.build/berth-build.lock`. So no process removes the plan another's
/// build is reading, and the one that waited finds the package built. Without the lock file (a
/// read-only folder) builds go ahead unserialized, as `swift build` alone would.
struct BuildLock {
    private let descriptor: CInt

    init(packageDirectory: String) {
        mkdir(packageDirectory + "/.build", 0o755)
        descriptor = open(packageDirectory + "/.build/berth-build.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor >= 0 {
            while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        }
    }

    /// Closing the descriptor lets the lock go.
    func release() {
        if descriptor >= 0 { close(descriptor) }
    }
}

/// `rename(2)` refused to put a library copy in place.
struct RenameFailure: Error, CustomStringConvertible {
    var target: String
    var reason: String
    var description: String { "cannot rename a copy to \(self.target): \(self.reason)" }
}
