// swift-tools-version:6.2
import PackageDescription

// The peer for bench/websocket.sh: Hummingbird 2's WebSocket echo, built like the Hummingbird
// hello world of the peer benchmark.
let package = Package(
    name: "HBWebSocketEcho",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "HBWebSocketEcho",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]
        ),
    ]
)
