import Foundation

/// Builds an app package with `swift build` when its library is missing or older than its
/// sources, and hands out a versioned copy of the library.
///
/// The copy matters: a worker has the library mapped, and rewriting a mapped `.so` in place
/// crashes it. `swift build` rewrites `libPRODUCT.so` in place, so workers only ever load a
/// copy named after its content, written to a temporary name and renamed into place.
public enum AppBuilder {
    /// Builds if needed and returns the path of the versioned copy to load. `log` receives the
    /// build's output line by line as it runs.
    public static func build(
        app: String,
        packageDirectory: String,
        product: String,
        swift: String = "swift",
        log: ((String) -> Void)? = nil
    ) throws(AppLoadError) -> String {
        let directory = URL(fileURLWithPath: packageDirectory).standardizedFileURL.path
        let library = builtLibraryPath(packageDirectory: directory, product: product)
        if isStale(library: library, inputs: inputFiles(packageDirectory: directory)) {
            try runBuild(app: app, directory: directory, product: product, swift: swift, log: log)
            guard FileManager.default.fileExists(atPath: library) else {
                throw AppLoadError(app: app, file: library, reason: .buildFailed(
                    "it succeeded but did not produce this file; is \(product) a .dynamic library product?",
                    lastLines: []))
            }
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

    /// Whether `library` is missing or older than any of `inputs`.
    static func isStale(library: String, inputs: [String]) -> Bool {
        guard let built = modificationTime(library) else { return true }
        return inputs.contains { (modificationTime($0) ?? .max) > built }
    }

    /// The files whose change calls for a rebuild: the manifest and sources of the package and
    /// of the local packages it depends on by path (BerthApp among them), since `swift build`
    /// would recompile for those too.
    static func inputFiles(packageDirectory: String) -> [String] {
        var files: [String] = []
        var seen: Set<String> = []
        var pending = [packageDirectory]
        while let directory = pending.popLast() {
            guard seen.insert(directory).inserted else { continue }
            let manifest = directory + "/Package.swift"
            files.append(manifest)
            files.append(contentsOf: filesUnder(directory + "/Sources"))
            for dependency in localDependencies(manifest: manifest) {
                let url = URL(fileURLWithPath: dependency, relativeTo: URL(fileURLWithPath: directory + "/"))
                pending.append(url.standardizedFileURL.path)
            }
        }
        return files
    }

    /// The `path:` of each `.package(path: "…")` in a manifest; a plain text match is enough
    /// since manifests spell local dependencies this one way.
    static func localDependencies(manifest: String) -> [String] {
        guard let text = try? String(contentsOfFile: manifest, encoding: .utf8) else { return [] }
        let pattern = #/\.package\(\s*(?:name:\s*"[^"]*"\s*,\s*)?path:\s*"([^"]+)"/#
        return text.matches(of: pattern).map { String($0.output.1) }
    }

    private static func filesUnder(_ directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        return walker.compactMap { ($0 as? String).map { directory + "/" + $0 } }
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
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: versioned.path])
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
