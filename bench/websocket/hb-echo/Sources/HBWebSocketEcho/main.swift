import Hummingbird
import HummingbirdWebSocket
import NIOPosix

// GET /ws/echo upgrades and sends every message back, whole, as Berth's example app does.
// Usage: HBWebSocketEcho PORT THREADS (binds 127.0.0.1).
let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 18095 : 18095
let threads = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 2 : 2
let router = Router()
let webSockets = Router(context: BasicWebSocketRequestContext.self)
webSockets.ws("/ws/echo") { inbound, outbound, _ in
    for try await message in inbound.messages(maxSize: 1 << 20) {
        switch message {
        case .text(let text): try await outbound.write(.text(text))
        case .binary(let bytes): try await outbound.write(.binary(bytes))
        }
    }
}
let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(webSocketRouter: webSockets),
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: threads))
)
try await app.runService()
