// swift-tools-version:6.0
import PackageDescription

// An app that misbehaves on purpose, for the server's end-to-end tests: it throws, hangs,
// tries to inject headers, streams, and serves files.
let package = Package(
    name: "MisbehavingApp",
    products: [
        .library(name: "MisbehavingApp", type: .dynamic, targets: ["MisbehavingApp"]),
    ],
    dependencies: [
        .package(path: "../../../../Sources/BerthApp"),
    ],
    targets: [
        .target(name: "MisbehavingApp", dependencies: [.product(name: "BerthApp", package: "BerthApp")]),
    ]
)
