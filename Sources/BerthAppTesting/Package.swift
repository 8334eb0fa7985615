// swift-tools-version:6.0
import PackageDescription

// Runs a Berth app in a test's own process: its router, middleware and hooks, with the same
// Request and Response types the server uses, and no server.
//
// A package of its own rather than a second product of BerthApp: a target of the BerthApp
// package would depend on the BerthApp *target*, which SwiftPM links statically into the test
// executable even though the app under test links the dynamic BerthApp product, and the
// process would then hold two copies of the API. From here it depends on the dynamic product,
// like the server and every app, so the test process holds one.
let package = Package(
    name: "BerthAppTesting",
    products: [
        .library(name: "BerthAppTesting", targets: ["BerthAppTesting"]),
    ],
    dependencies: [
        .package(path: "../BerthApp"),
    ],
    targets: [
        .target(
            name: "BerthAppTesting",
            dependencies: [.product(name: "BerthApp", package: "BerthApp")]
        ),
    ]
)
