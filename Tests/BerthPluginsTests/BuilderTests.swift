import Foundation
import Testing
@_spi(BerthServer) import BerthApp
@testable import BerthPlugins

@Suite("Builder")
struct BuilderTests {
    private func touch(_ path: String, secondsAgo: TimeInterval) throws {
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try "x".write(toFile: path, atomically: false, encoding: .utf8)
        }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -secondsAgo)],
                                              ofItemAtPath: path)
    }

    @Test func staleWhenMissingOrOlderThanAnInput() throws {
        let folder = try makeTemporaryFolder()
        let library = folder + "/.build/release/libDemo.so"
        let source = folder + "/Sources/Demo/Demo.swift"
        try touch(source, secondsAgo: 100)
        #expect(AppBuilder.isStale(library: library, inputs: [source]))
        try touch(library, secondsAgo: 50)
        #expect(!AppBuilder.isStale(library: library, inputs: [source]))
        try touch(source, secondsAgo: 10)
        #expect(AppBuilder.isStale(library: library, inputs: [source]))
        #expect(AppBuilder.isStale(library: library, inputs: [folder + "/gone.swift"]), "a vanished input forces a build")
    }

    @Test func inputsIncludeLocalDependenciesLikeTheAPI() {
        let hello = Fixtures.repository + "/sites/hello"
        let inputs = AppBuilder.inputFiles(packageDirectory: hello)
        #expect(inputs.contains(hello + "/Package.swift"))
        #expect(inputs.contains(hello + "/Sources/HelloApp/HelloApp.swift"))
        #expect(inputs.contains(Fixtures.repository + "/Sources/BerthApp/Package.swift"))
        #expect(inputs.contains(Fixtures.repository + "/Sources/BerthApp/Sources/BerthApp/Router.swift"))
    }

    @Test func localDependenciesAreReadFromTheManifest() throws {
        let manifest = try makeTemporaryFolder() + "/Package.swift"
        try """
            dependencies: [
                .package(path: "../../Sources/BerthApp"),
                .package(name: "Shared", path: "/srv/shared"),
                .package(url: "https://example.com/x.git", from: "1.0.0"),
                .package(
                    name: "Tools",
                    path: "../tools"
                ),
                .package(path: ""),
            ]
            """.write(toFile: manifest, atomically: true, encoding: .utf8)
        #expect(AppBuilder.localDependencies(manifest: manifest) == ["../../Sources/BerthApp", "/srv/shared", "../tools"])
    }

    @Test func versionedCopiesAreNeverOverwritten() throws {
        let folder = try makeTemporaryFolder()
        let library = folder + "/libDemo.so"
        try Data("version one".utf8).write(to: URL(fileURLWithPath: library))
        let first = try AppBuilder.installVersionedCopy(of: library)
        #expect(first != library)
        #expect(try String(contentsOfFile: first, encoding: .utf8) == "version one")
        #expect(try AppBuilder.installVersionedCopy(of: library) == first, "same content, same copy")

        try Data("version two".utf8).write(to: URL(fileURLWithPath: library))
        let second = try AppBuilder.installVersionedCopy(of: library)
        #expect(second != first)
        #expect(try String(contentsOfFile: first, encoding: .utf8) == "version one")
        #expect(try String(contentsOfFile: second, encoding: .utf8) == "version two")

        for version in 3...7 {
            try Data("version \(version)".utf8).write(to: URL(fileURLWithPath: library))
            _ = try AppBuilder.installVersionedCopy(of: library)
        }
        let copies = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0 != "libDemo.so" }
        #expect(copies.count == 4, "old copies are pruned, the newest kept: \(copies)")
    }

    @Test func buildFailureShowsTheCompilerOutput() async throws {
        // A folder kept across runs: SwiftPM leaves a lock file in /tmp for every package path.
        let folder = Fixtures.workspace + "/broken"
        try FileManager.default.createDirectory(atPath: folder + "/Sources/Broken", withIntermediateDirectories: true)
        try """
            // swift-tools-version:6.0
            import PackageDescription
            let package = Package(name: "Broken", products: [.library(name: "Broken", type: .dynamic, targets: ["Broken"])],
                                  targets: [.target(name: "Broken")])
            """.write(toFile: folder + "/Package.swift", atomically: true, encoding: .utf8)
        try "let x: Int = \"not a number\"\n".write(toFile: folder + "/Sources/Broken/Broken.swift", atomically: true, encoding: .utf8)
        let (error, streamed) = try await offThePool { () -> (AppLoadError?, Int) in
            var streamed = 0
            do {
                _ = try AppBuilder.build(app: "broken", packageDirectory: folder, product: "Broken") { _ in streamed += 1 }
                return (nil, streamed)
            } catch {
                return (error as? AppLoadError, streamed)
            }
        }
        let failure = try #require(error, "a broken package built")
        #expect(failure.description.hasPrefix("app broken: \(folder): swift build failed (`swift build -c release --product Broken --package-path \(folder)`: exit status 1); fix the app and reload"))
        #expect(failure.description.contains("cannot convert value of type 'String'"))
        #expect(streamed > 0, "the build log is streamed while it runs")
    }

    /// SwiftPM does not notice a file added to or removed from a package the app depends on by
    /// path (as every app does on BerthApp); the builder makes it plan again when that happens.
    @Test func filesAddedToOrRemovedFromALocalDependencyAreBuilt() async throws {
        // Kept across runs, like the broken package above; every run starts from the same files.
        let folder = Fixtures.workspace + "/file-set"
        let manager = FileManager.default
        func write(_ text: String, _ path: String) throws {
            try manager.createDirectory(atPath: ((folder + "/" + path) as NSString).deletingLastPathComponent,
                                        withIntermediateDirectories: true)
            // In place: a file replaced by rename changes its folder, which SwiftPM does notice
            // in the root package, and the case below is about the dependency's files alone.
            try text.write(toFile: folder + "/" + path, atomically: false, encoding: .utf8)
        }
        try write("""
            // swift-tools-version:6.0
            import PackageDescription
            let package = Package(name: "Shared", products: [.library(name: "Shared", targets: ["Shared"])],
                                  targets: [.target(name: "Shared")])
            """, "shared/Package.swift")
        try write("public func one() -> Int { 1 }\n", "shared/Sources/Shared/One.swift")
        try? manager.removeItem(atPath: folder + "/shared/Sources/Shared/Two.swift")
        try write("""
            // swift-tools-version:6.0
            import PackageDescription
            let package = Package(name: "Lister", products: [.library(name: "Lister", type: .dynamic, targets: ["Lister"])],
                                  dependencies: [.package(path: "../shared")],
                                  targets: [.target(name: "Lister", dependencies: [.product(name: "Shared", package: "Shared")])])
            """, "app/Package.swift")
        try write("import Shared\npublic func lister() -> Int { one() }\n", "app/Sources/Lister/Lister.swift")
        let app = folder + "/app"
        func build() async throws -> AppLoadError? {
            try await offThePool { () -> AppLoadError? in
                do throws(AppLoadError) {
                    _ = try AppBuilder.build(app: "lister", packageDirectory: app, product: "Lister")
                    return nil
                } catch {
                    return error
                }
            }
        }
        #expect(try await build() == nil)

        try write("public func two() -> Int { 2 }\n", "shared/Sources/Shared/Two.swift")
        try write("import Shared\npublic func lister() -> Int { one() + two() }\n", "app/Sources/Lister/Lister.swift")
        // Two servers starting at once (as the end-to-end tests' do) take turns: neither
        // removes the plan the other's build reads.
        async let first = build()
        async let second = build()
        for afterAdding in try await [first, second] {
            #expect(afterAdding == nil, "a file added to the dependency: \(afterAdding.map { "\($0)" } ?? "")")
        }

        try manager.removeItem(atPath: folder + "/shared/Sources/Shared/Two.swift")
        try write("import Shared\npublic func lister() -> Int { one() }\n", "app/Sources/Lister/Lister.swift")
        let afterRemoving = try await build()
        #expect(afterRemoving == nil, "a file removed from the dependency: \(afterRemoving.map { "\($0)" } ?? "")")
    }

    @Test func stampNamesThisToolchainExactly() throws {
        var output: [UInt8] = []
        _ = try ChildProcess.run(["swift", "--version"]) { output += $0 }
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("Swift version \(AppStamp.server.compiler) ("),
                "CompilerStamp.swift does not list this toolchain: \(text)")
    }
}
