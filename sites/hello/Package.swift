// swift-tools-version:6.0
import PackageDescription

// A minimal Berth app: the server builds this package and loads libHelloApp.so.
let package = Package(
    name: "HelloApp",
    products: [
        // Dynamic: the server loads it with dlopen.
        .library(name: "HelloApp", type: .dynamic, targets: ["HelloApp"]),
    ],
    dependencies: [
        .package(path: "../../Sources/BerthApp"),
        // Runs the app in its own tests, in-process, with no server.
        .package(path: "../../Sources/BerthAppTesting"),
    ],
    targets: [
        .target(
            name: "HelloApp",
            // The product, never the target: the app must share the server's one copy of the API.
            dependencies: [.product(name: "BerthApp", package: "BerthApp")]
        ),
        .testTarget(
            name: "HelloAppTests",
            dependencies: ["HelloApp", .product(name: "BerthAppTesting", package: "BerthAppTesting")]
        ),
    ]
)
