// swift-tools-version:6.0
// The floor of an HTTP/1.1 server on SwiftNIO (and NIOSSL), for bench/floor.sh: see Sources/NIOFloor.
import PackageDescription

let package = Package(
    name: "NIOFloor",
    dependencies: [.package(url: "https://github.com/apple/swift-nio", from: "2.101.2"), .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6")],
    targets: [
        .executableTarget(
            name: "NIOFloor",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl")]
        )
    ]
)
