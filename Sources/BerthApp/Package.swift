// swift-tools-version:6.0
import PackageDescription

// The public API that app modules are written against. It lives in its own package with a
// dynamic product so that exactly one copy of it exists in the server process, and it is
// built with library evolution so that apps built against an older API keep working.
let package = Package(
    name: "BerthApp",
    products: [
        .library(name: "BerthApp", type: .dynamic, targets: ["BerthApp"]),
    ],
    targets: [
        .target(
            name: "BerthApp",
            swiftSettings: [
                .unsafeFlags(["-enable-library-evolution"]),
                // Every app request passes through this library: in release builds without
                // the run-time exclusivity checks, as the server's own request path is.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ]
        ),
    ]
)
