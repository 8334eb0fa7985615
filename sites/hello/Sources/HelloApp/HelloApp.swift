import BerthApp

/// Says hello. `GET /hello` is the benchmark's dynamic route, so it answers with one response
/// built at start-up; `GET /hello/:name` greets with the `greeting` setting.
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
        self.router = router
    }
}

@_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(HelloApp.self) }
