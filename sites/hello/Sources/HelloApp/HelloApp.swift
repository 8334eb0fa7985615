import BerthApp

/// Says hello. `GET /hello` is the benchmark's dynamic route, so it answers with one response
/// built at start-up; `GET /hello/:name` greets with the `greeting` setting; `/ws/echo` is a
/// WebSocket that sends every message back.
public struct HelloApp: App {
    public let router: Router

    public init(context: AppContext) {
        let greeting = context.settings["greeting"]?.string ?? "Hello"
        let world = Response.text("Hello, world!")
        var router = Router()
        router.get("/hello") { _ in world }
        router.get("/hello/:name") { request in
            "\(greeting), \(request.parameters["name"] ?? "")!"
        }
        router.webSocket("/ws/echo") { _, socket in
            for try await message in socket.messages {
                try await socket.send(message)
            }
        }
        self.router = router
    }
}

@_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(HelloApp.self) }
