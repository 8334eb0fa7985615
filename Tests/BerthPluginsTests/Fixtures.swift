import Foundation
import Testing
@testable import BerthPlugins

/// Libraries the loader tests need, built once per test run and shared by every test.
///
/// Building is the slow part (each package compiles BerthApp), so builds run one at a time,
/// off the test's thread pool, in a folder kept across runs so that a second run is
/// incremental: a fixture package (probe executable, a second `HelloApp`, an app with a
/// foreign stamp), a package that compiles its own copy of BerthApp, two C libraries, and the
/// example apps in `sites/` built in place by the real ``AppBuilder``.
actor Fixtures {
    static let shared = Fixtures()

    /// The repository: this file is `Tests/BerthPluginsTests/Fixtures.swift`.
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Per checkout, so two clones never share (and fight over) one build folder.
    static let workspace: String = {
        let tag = AppBuilder.contentHash(Data(repository.utf8)).prefix(8)
        let path = FileManager.default.temporaryDirectory.path + "/berth-plugins-tests-\(tag)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    private var pending: Task<Void, Never>?
    private var results: [String: Task<String, any Error>] = [:]

    /// The command that probes a library: the fixture package's stand-in for `berth-worker probe-app`.
    func probe() async throws -> [String] {
        [try await fixturePackage() + "/.build/debug/berth-test-probe"]
    }

    /// A second app whose module and type are both called `HelloApp`, like `sites/hello`.
    func twinHello() async throws -> String {
        try await fixturePackage() + "/.build/debug/libTwinHelloApp.so"
    }

    /// An app stamped as built by Swift 6.2.
    func staleStamp() async throws -> String {
        try await fixturePackage() + "/.build/debug/libStaleStampApp.so"
    }

    /// An app that compiled the BerthApp sources into itself.
    func ownCopy() async throws -> String {
        try await once("own-copy") {
            let directory = Self.workspace + "/own-copy"
            try Self.write([
                "Package.swift": FixtureSources.ownCopyManifest,
                "Sources/OwnCopyApp/OwnCopyApp.swift": FixtureSources.ownCopyApp,
            ], to: directory, links: ["Sources/BerthApp": Self.repository + "/Sources/BerthApp/Sources/BerthApp"])
            try Self.swift(["build", "--package-path", directory])
            return directory + "/.build/debug/libOwnCopyApp.so"
        }
    }

    /// A shared library without `berth_app_entry`.
    func noEntry() async throws -> String {
        try await cLibrary("libNoEntry.so", source: "int berth_not_the_entry(void) { return 42; }\n")
    }

    /// A shared library whose initializer crashes the process that loads it.
    func crashOnLoad() async throws -> String {
        try await cLibrary("libCrashOnLoad.so", source: """
            __attribute__((constructor)) static void crash(void) { *(volatile int *)0 = 1; }

            """)
    }

    /// `sites/hello`, built and checked by ``AppLibrary/prepare``.
    func hello() async throws -> String {
        try await example("hello", product: "HelloApp")
    }

    /// `sites/notes`, built and checked by ``AppLibrary/prepare``.
    func notes() async throws -> String {
        try await example("notes", product: "NotesApp")
    }

    /// The output of `swift test` for the example app `name`'s own suite, which runs the app
    /// with BerthAppTesting. The examples share one scratch folder, kept across runs, so the API
    /// and the test kit compile once for all of them; a failing suite throws with its output.
    func exampleSuite(_ name: String) async throws -> String {
        try await once("suite-" + name) {
            try Self.swift(["test", "--package-path", Self.repository + "/sites/" + name,
                            "--scratch-path", Self.workspace + "/example-suites"])
        }
    }

    private func example(_ name: String, product: String) async throws -> String {
        let probe = try await probe()
        return try await once(name) {
            try AppLibrary.prepare(name: name, source: .package(directory: Self.repository + "/sites/" + name, product: product),
                                   probe: probe)
        }
    }

    private func fixturePackage() async throws -> String {
        try await once("fixtures") {
            let directory = Self.workspace + "/fixtures"
            try Self.write([
                "Package.swift": FixtureSources.fixtureManifest(berthApp: Self.repository + "/Sources/BerthApp"),
                "Sources/berth-test-probe/main.swift": FixtureSources.probeMain,
                "Sources/HelloApp/HelloApp.swift": FixtureSources.twinHelloApp,
                "Sources/StaleStampApp/StaleStampApp.swift": FixtureSources.staleStampApp,
            ], to: directory, links: [
                "Sources/BerthPlugins": Self.repository + "/Sources/BerthPlugins",
                "Sources/BerthAppLoader": Self.repository + "/Sources/BerthAppLoader",
                "Sources/CBerthSystem": Self.repository + "/Sources/CBerthSystem",
            ])
            try Self.swift(["build", "--package-path", directory])
            return directory
        }
    }

    private func cLibrary(_ name: String, source: String) async throws -> String {
        try await once(name) {
            let directory = Self.workspace + "/c"
            try Self.write([name + ".c": source], to: directory, links: [:])
            let output = directory + "/" + name
            let status = try ChildProcess.run(["cc", "-shared", "-fPIC", "-o", output, output + ".c"]) { _ in }
            guard status == .exited(0) else { throw FixtureError("cc failed for \(name): \(status)") }
            return output
        }
    }

    /// Runs `work` the first time `key` is asked for, after every build before it finished.
    private func once(_ key: String, _ work: @escaping @Sendable () throws -> String) async throws -> String {
        if let task = results[key] { return try await task.value }
        let previous = pending
        let task = Task<String, any Error> {
            await previous?.value
            return try await offThePool(work)
        }
        results[key] = task
        pending = Task { _ = try? await task.value }
        return try await task.value
    }

    private static func write(_ files: [String: String], to directory: String, links: [String: String]) throws {
        let manager = FileManager.default
        for (path, text) in files {
            let url = URL(fileURLWithPath: directory + "/" + path)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Unchanged files keep their mtime, so the incremental build stays incremental.
            if (try? String(contentsOf: url, encoding: .utf8)) != text {
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
        }
        for (link, target) in links {
            let url = URL(fileURLWithPath: directory + "/" + link)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? manager.destinationOfSymbolicLink(atPath: url.path)) != target {
                try? manager.removeItem(at: url)
                try manager.createSymbolicLink(atPath: url.path, withDestinationPath: target)
            }
        }
    }

    /// Runs `swift` with `arguments` and returns what it printed.
    @discardableResult
    /// These packages are built in folders kept across runs, and they take BerthApp (and the
    /// server's sources) by path or by link, whose added or removed files SwiftPM does not
    /// notice (see `InputList`): the plan of the last run is dropped, so each run plans afresh.
    private static func swift(_ arguments: [String]) throws -> String {
        if let at = arguments.firstIndex(of: "--scratch-path") ?? arguments.firstIndex(of: "--package-path"),
           at + 1 < arguments.count {
            let scratch = arguments[at] == "--scratch-path" ? arguments[at + 1] : arguments[at + 1] + "/.build"
            try? FileManager.default.removeItem(atPath: scratch + "/debug.yaml")
        }
        var log: [UInt8] = []
        let status = try ChildProcess.run(["swift"] + arguments) { log += $0 }
        guard status == .exited(0) else {
            let tail = String(decoding: log, as: UTF8.self).split(separator: "\n").suffix(30).joined(separator: "\n")
            throw FixtureError("swift \(arguments.joined(separator: " ")) failed (\(status)):\n\(tail)")
        }
        return String(decoding: log, as: UTF8.self)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
