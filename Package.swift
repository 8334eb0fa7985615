// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Berth",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "berth", targets: ["berth"]),
        .executable(name: "berth-master", targets: ["berth-master"]),
        .executable(name: "berth-worker", targets: ["berth-worker"]),
        .executable(name: "berth-acme", targets: ["berth-acme"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        // ACME: ES256 signatures and hashes, and certificates and CSRs without hand-written ASN.1.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // The app API: its own package so its dynamic library exists once in the process.
        .package(path: "Sources/BerthApp"),
        // Running an app in-process in tests: a package of its own, over the dynamic API product.
        .package(path: "Sources/BerthAppTesting"),
    ],
    targets: [
        // What the virtual-host file says, as validated plain values: no YAML, no NIO, no
        // Foundation (workers carry it, and each library a process loads costs resident memory).
        .target(name: "BerthConfig"),
        // Reading the virtual-host file: YAML in, BerthConfig values out, every error at once.
        .target(
            name: "BerthConfigFile",
            dependencies: ["BerthConfig", .product(name: "Yams", package: "Yams")]
        ),
        // Linux calls Swift cannot import directly (openat2).
        .target(name: "CBerthSystem"),
        // zlib and Brotli's encoder from the system (zlib1g-dev, libbrotli-dev), for the
        // compression filter's content codings.
        .target(name: "CBerthCompression", linkerSettings: [.linkedLibrary("z"), .linkedLibrary("brotlienc")]),
        // Mapping request paths to files under a site's root: preconditions, ranges, MIME,
        // index, listing, precompressed sidecars. Knows no YAML and no sockets.
        .target(
            name: "BerthStatic",
            dependencies: ["BerthConfig", "CBerthSystem", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: requestPathSettings
        ),
        // Readying app libraries for workers: building packages, file checks, a probe in a
        // child process. Links no app API, so the master can use it. Knows no HTTP parsing.
        .target(name: "BerthPlugins", dependencies: ["CBerthSystem"]),
        // Opening app libraries in a worker (and in the probe child): dlopen, ABI stamp,
        // identity of the API copy.
        .target(
            name: "BerthAppLoader",
            dependencies: ["BerthPlugins", .product(name: "BerthApp", package: "BerthApp")]
        ),
        // Certificates from an ACME CA (RFC 8555): the protocol, its HTTPS transport, storage on
        // disk and the renewal schedule. Runs in a helper process, never in the master, and
        // knows nothing about serving HTTP.
        .target(
            name: "BerthACME",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Request counters as workers report them and the master sums and serves them.
        .target(name: "BerthMetrics"),
        // Sockets, TLS with SNI, HTTP/1.1 and HTTP/2 (ALPN), host and path routing, limits, timeouts, access log.
        .target(
            name: "BerthServer",
            dependencies: [
                "BerthConfig",
                "BerthMetrics",
                "BerthProcess",
                "CBerthSystem",
                "CBerthCompression",
                "BerthStatic",
                "BerthAppLoader",
                .product(name: "BerthApp", package: "BerthApp"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // `import Builtin`, for one thing only: starting an app request's task without the
            // executor preference `Task.immediate` records (Handlers/ImmediateTask.swift).
            swiftSettings: requestPathSettings + [.enableExperimentalFeature("BuiltinModule")]
        ),
        // What berth's processes share: the brief and reports on the master's pipes to its
        // workers, the error log, signals, threads for blocking work, switching accounts.
        .target(
            name: "BerthProcess",
            dependencies: [
                "BerthConfig",
                "BerthMetrics",
                "CBerthSystem",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One worker process: serves on the listeners it inherits and runs the apps in-process.
        // It links the Swift runtime dynamically (apps share it) and no Foundation beyond
        // FoundationEssentials, so each worker maps only what serving needs.
        .executableTarget(
            name: "berth-worker",
            dependencies: [
                "BerthConfig",
                "BerthServer",
                "BerthPlugins",
                "BerthAppLoader",
                "BerthProcess",
                .product(name: "BerthApp", package: "BerthApp"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: [.unsafeFlags(packedRelocations, .when(platforms: [.linux]))]
        ),
        // The command line and the master. It never loads an app, so it carries its own copy of
        // the Swift runtime (static linking): a master maps only the pages it uses instead of
        // every shared library whole. It links no YAML reader and no Foundation beyond
        // FoundationEssentials; `berth` reads the file for it. Its workers are `berth-worker`.
        // All three are installed side by side.
        .executableTarget(
            name: "berth-master",
            dependencies: [
                "BerthConfig",
                "BerthMetrics",
                "BerthPlugins",
                "BerthProcess",
                "CBerthSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["layout"],
            linkerSettings: [.unsafeFlags(staticRuntime + hotFirst("berth-master"), .when(platforms: [.linux]))]
        ),
        // The certificate coordinator, one per machine, started by the master when hosts have
        // `tls: auto` or `tls: internal`: the only binary with the ACME client and crypto, so
        // the master stays lean and the workers do not each order the same names.
        .executableTarget(
            name: "berth-acme",
            dependencies: [
                "BerthACME",
                "BerthConfig",
                "BerthProcess",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `berth`, the command people run: it becomes `berth-master` (exec), and reads the
        // virtual-host file for it in a child. It exists so that `swift run berth` builds all
        // four binaries: an executable that depends on another links that one's modules too,
        // which the master must not (they bring the shared runtime, YAML and Foundation).
        .executableTarget(
            name: "berth",
            dependencies: ["berth-master", "berth-worker", "berth-acme", "BerthConfig", "BerthConfigFile", "BerthProcess"]
        ),
        .testTarget(name: "BerthConfigTests", dependencies: ["BerthConfig", "BerthConfigFile"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BerthStaticTests", dependencies: ["BerthStatic", "BerthConfig"]),
        // Unit tests without I/O, and issuance against Pebble (the ACME test server) on loopback.
        .testTarget(
            name: "BerthACMETests",
            dependencies: [
                "BerthACME",
                "BerthTestPebble",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "BerthProcessTests", dependencies: ["BerthProcess", "BerthConfig", "BerthConfigFile"]),
        .testTarget(
            name: "BerthPluginsTests",
            dependencies: ["BerthPlugins", "BerthAppLoader", .product(name: "BerthApp", package: "BerthApp")]
        ),
        .testTarget(
            name: "BerthServerTests",
            dependencies: [
                "BerthServer",
                "BerthConfigFile",
                "CBerthCompression",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "BerthApp", package: "BerthApp"),
            ]
        ),
        // The app API as app authors use it (middleware, return types, request values), through
        // the test kit they use, which is tested here too.
        .testTarget(
            name: "BerthAppTests",
            dependencies: [
                .product(name: "BerthApp", package: "BerthApp"),
                .product(name: "BerthAppTesting", package: "BerthAppTesting"),
            ]
        ),
        // Starts the real `berth` binary on temporary config files and talks to it over sockets.
        .testTarget(name: "BerthEndToEndTests", dependencies: ["berth", "BerthTestPebble"]),
        // Pebble, the ACME test server, for the ACME client's tests and the end-to-end ones.
        .target(name: "BerthTestPebble", path: "Tests/BerthTestPebble"),
        // The committed fuzz corpora (Corpus/<harness>/) replayed through the harnesses that
        // fuzz/run.sh compiles for libFuzzer: one checking code, run by both.
        .testTarget(
            name: "FuzzReplayTests",
            dependencies: [
                "BerthConfig",
                "BerthServer",
                "BerthStatic",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            exclude: ["Corpus"]
        ),
    ]
)

/// The modules every request runs through. Release builds leave out the run-time exclusivity
/// checks there (a few percent of a small static response's CPU); debug builds, which the
/// tests run, keep them, so an overlapping access still fails a test.
var requestPathSettings: [SwiftSetting] {
    [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
}

/// Relative relocations packed (DT_RELR, glibc 2.36+): a position-independent executable's
/// table of them is read once at start and would otherwise stay resident, 24 bytes for every
/// pointer in its data (2 MiB in the master). gold cannot write them; lld, which the Swift
/// toolchain ships, can.
var packedRelocations: [String] {
    ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"]
}

/// The functions a process runs, laid out together at the start of its text (lld's symbol
/// ordering). A binary's pages count as resident once touched, and the kernel maps them 64 KiB
/// at a time around each fault: the master's few hundred KiB of running code, scattered over
/// 12 MiB of text, kept 7.4 MiB of it resident; placed together, 4.8 MiB. The list only
/// decides placement, so a stale or missing name costs memory, never correctness;
/// `bench/hot-order.sh` writes it again from a run under callgrind.
func hotFirst(_ target: String) -> [String] {
    let file = Context.packageDirectory + "/Sources/" + target + "/layout/hot.order"
    return ["-Xlinker", "--symbol-ordering-file=" + file, "-Xlinker", "--no-warn-symbol-ordering"]
}

/// The master's static Swift runtime and FoundationEssentials. Modules compiled against the
/// shared runtime name only `FoundationEssentials` for the linker; its static archive needs
/// the rest named.
var staticRuntime: [String] {
    packedRelocations + ["-static-stdlib", "-lFoundationEssentials", "-l_FoundationCShims", "-l_FoundationCollections",
     "-lswiftSynchronization", "-lswiftDispatch", "-ldispatch", "-lBlocksRuntime", "-lstdc++", "-lm"]
}
