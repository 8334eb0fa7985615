// swift-tools-version:6.0
import PackageDescription

// A small notes app served by Berth: a JSON API over a file, and a static front end in public/.
let package = Package(
    name: "NotesApp",
    products: [
        // Dynamic: the server loads it with dlopen.
        .library(name: "NotesApp", type: .dynamic, targets: ["NotesApp"]),
    ],
    dependencies: [
        .package(path: "../../Sources/BerthApp"),
        // Runs the app in its own tests, in-process, with no server.
        .package(path: "../../Sources/BerthAppTesting"),
    ],
    targets: [
        .target(
            name: "NotesApp",
            // The product, never the target: the app must share the server's one copy of the API.
            dependencies: [.product(name: "BerthApp", package: "BerthApp")]
        ),
        .testTarget(
            name: "NotesAppTests",
            dependencies: ["NotesApp", .product(name: "BerthAppTesting", package: "BerthAppTesting")]
        ),
    ]
)
