// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Berth",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        // The app API: its own package so its dynamic library exists once in the process.
        .package(path: "Sources/BerthApp"),
    ],
    targets: [
        // The virtual-host file: YAML in, validated plain values out (no NIO).
        .target(
            name: "BerthConfig",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Linux calls Swift cannot import directly (openat2).
        .target(name: "CBerthSystem"),
        // Mapping request paths to files under a site's root: preconditions, ranges, MIME,
        // index, listing, precompressed sidecars. Knows no YAML and no sockets.
        .target(
            name: "BerthStatic",
            dependencies: ["CBerthSystem", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: requestPathSettings
        ),
        // Loading app libraries: file checks, a probe in a child process, dlopen, ABI stamp,
        // identity of the API copy. Knows no HTTP parsing.
        .target(
            name: "BerthPlugins",
            dependencies: ["CBerthSystem", .product(name: "BerthApp", package: "BerthApp")]
        ),
        // Sockets, TLS with SNI, HTTP/1.1 and HTTP/2 (ALPN), host and path routing, limits, timeouts, access log.
        .target(
            name: "BerthServer",
            dependencies: [
                "BerthConfig",
                "BerthStatic",
                "BerthPlugins",
                .product(name: "BerthApp", package: "BerthApp"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: requestPathSettings
        ),
        .executableTarget(
            name: "berth",
            dependencies: [
                "BerthConfig",
                "BerthServer",
                "BerthPlugins",
                "CBerthSystem",
                .product(name: "BerthApp", package: "BerthApp"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "BerthConfigTests", dependencies: ["BerthConfig"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BerthStaticTests", dependencies: ["BerthStatic"]),
        .testTarget(
            name: "BerthPluginsTests",
            dependencies: ["BerthPlugins", .product(name: "BerthApp", package: "BerthApp")]
        ),
        .testTarget(
            name: "BerthServerTests",
            dependencies: [
                "BerthServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ]
        ),
        // Starts the real `berth` binary on temporary config files and talks to it over sockets.
        .testTarget(name: "BerthEndToEndTests", dependencies: ["berth"]),
    ]
)

/// The modules every request runs through. Release builds leave out the run-time exclusivity
/// checks there (a few percent of a small static response's CPU); debug builds, which the
/// tests run, keep them, so an overlapping access still fails a test.
var requestPathSettings: [SwiftSetting] {
    [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}
