/// The sources of the fixture packages that ``Fixtures`` writes and builds.
enum FixtureSources {
    /// A probe executable (the loader's child process, like `berth-worker probe-app`) and two apps that
    /// depend on the BerthApp product the proper way.
    static func fixtureManifest(berthApp: String) -> String {
        """
        // swift-tools-version:6.0
        import PackageDescription

        let package = Package(
            name: "PluginFixtures",
            products: [
                .executable(name: "berth-test-probe", targets: ["berth-test-probe"]),
                .library(name: "TwinHelloApp", type: .dynamic, targets: ["HelloApp"]),
                .library(name: "StaleStampApp", type: .dynamic, targets: ["StaleStampApp"]),
            ],
            dependencies: [.package(path: "\(berthApp)")],
            targets: [
                .target(name: "CBerthSystem"),
                .target(name: "BerthPlugins", dependencies: ["CBerthSystem"]),
                .target(name: "BerthAppLoader", dependencies: ["BerthPlugins", .product(name: "BerthApp", package: "BerthApp")]),
                .executableTarget(name: "berth-test-probe", dependencies: ["BerthPlugins", "BerthAppLoader"]),
                .target(name: "HelloApp", dependencies: [.product(name: "BerthApp", package: "BerthApp")]),
                .target(name: "StaleStampApp", dependencies: [.product(name: "BerthApp", package: "BerthApp")]),
            ]
        )

        """
    }

    static let probeMain = """
        import BerthAppLoader
        import BerthPlugins
        #if canImport(Glibc)
        import Glibc
        #endif

        exit(AppProbe.run(libraryPath: CommandLine.arguments[1]))

        """

    /// Same module name and type name as `sites/hello`, different answer.
    static let twinHelloApp = """
        import BerthApp

        public struct HelloApp: App {
            public let router: Router
            public init(context: AppContext) {
                var router = Router()
                router.get("/hello") { _ in .text("Hello from the twin!") }
                self.router = router
            }
        }

        @_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(HelloApp.self) }

        """

    static let staleStampApp = """
        @_spi(BerthTesting) import BerthApp

        public struct StaleApp: App {
            public init(context: AppContext) {}
        }

        @_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer {
            exportApp(StaleApp.self, apiVersion: 1, compiler: "6.2")
        }

        """

    /// The mistake the loader must catch: BerthApp as a target of the app's own package, which
    /// SwiftPM links statically into the app.
    static let ownCopyManifest = """
        // swift-tools-version:6.0
        import PackageDescription

        let package = Package(
            name: "OwnCopyApp",
            products: [.library(name: "OwnCopyApp", type: .dynamic, targets: ["OwnCopyApp"])],
            targets: [
                .target(name: "BerthApp"),
                .target(name: "OwnCopyApp", dependencies: ["BerthApp"]),
            ]
        )

        """

    static let ownCopyApp = """
        import BerthApp

        public struct OwnCopyApp: App {
            public init(context: AppContext) {}
        }

        @_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(OwnCopyApp.self) }

        """
}
