import BerthApp
#if canImport(Glibc)
import Glibc
#endif

struct Failure: Error, CustomStringConvertible {
    var description: String { "the database is on fire" }
}

struct Row: Codable {
    var id: Int
    var name: String
    var price: Double
    var tags: [String]
}

struct Echo: Codable {
    var text: String
}

public struct MisbehavingApp: App {
    public let router: Router

    public init(context: AppContext) {
        let root = context.root
        var router = Router()
        router.get("/api/throw") { _ in throw Failure() }
        router.get("/api/slow") { _ in
            try await Task.sleep(for: .seconds(30))
            return .text("too late")
        }
        router.get("/api/wait") { _ in
            context.log(.info, "app is waiting")
            do {
                try await Task.sleep(for: .seconds(20))
            } catch {
                context.log(.info, "wait cancelled")
                throw error
            }
            return .text("waited")
        }
        router.get("/api/spin") { request in
            // Computes for `ms` milliseconds (default 50) without a suspension point: the
            // handler a CPU-bound app would have.
            let milliseconds = Int(request.queryItems["ms"] ?? "") ?? 50
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: .milliseconds(milliseconds))
            var rounds = 0
            while clock.now < end { rounds &+= 1 }
            var response = Response.text("spun \(rounds) on \(threadName())\n")
            // The scheduling priority of the thread that computed (Linux's nice, per thread).
            response.headers.add(name: "X-Nice", value: String(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)))
            return response
        }
        router.get("/api/thread") { _ in .text(threadName()) }
        router.get("/api/inject") { _ in
            var response = Response.text("injected")
            response.headers.add(name: "X-Evil", value: "a\r\nSet-Cookie: stolen=1")
            return response
        }
        router.get("/api/framing") { _ in
            // Framing is the server's: these three go, whatever their case; the others stay.
            var response = Response.text("framed")
            response.headers.add(name: "content-LENGTH", value: "999")
            response.headers.add(name: "Transfer-Encoding", value: "chunked")
            response.headers.add(name: "CONNECTION", value: "close")
            response.headers.add(name: "X-Connection", value: "kept")
            return response
        }
        router.get("/api/stream") { _ in
            Response(body: .stream { writer in
                for index in 0..<5 { try await writer.write("chunk \(index)\n") }
            })
        }
        router.get("/api/slow-stream") { _ in
            // A chunk a second: each must reach the client when written, compressed or not.
            var response = Response(body: .stream { writer in
                for index in 0..<3 {
                    if index > 0 { try await Task.sleep(for: .seconds(1)) }
                    try await writer.write("tick \(index) " + String(repeating: "-", count: 300) + "\n")
                }
            })
            response.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            return response
        }
        router.get("/api/report") { request in
            // About 16 KiB of JSON, the shape of a typical API answer (`rows` for more).
            let count = Int(request.queryItems["rows"] ?? "") ?? 240
            let rows = (0..<count).map { Row(id: $0, name: "item \($0)", price: Double($0) * 1.25, tags: ["coffee", "roast"]) }
            var response = try Response.json(rows)
            if request.queryItems["transform"] == "no" { response.headers.add(name: "Cache-Control", value: "no-transform") }
            return response
        }
        router.get("/api/file") { _ in Response(body: .file(root + "/Package.swift")) }
        router.get("/api/tagged") { _ in
            // Validators of the app's own: the server answers conditional and range requests.
            var response = Response.text("0123456789abcdefghij")
            response.headers.add(name: "ETag", value: "\"v1\"")
            response.headers.add(name: "Last-Modified", value: "Sun, 06 Nov 1994 08:49:37 GMT")
            return response
        }
        router.post("/api/echo") { request in
            let echo = try await request.decode(as: Echo.self, limit: 1024)
            return try .json(echo, status: .created)
        }
        router.post("/api/count") { request in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            return .text("\(bytes.count)")
        }
        router.get("/host") { request in .text(request.host + " " + request.path + "?" + request.queryString) }
        self.router = router
    }
}

/// The name of the thread running the handler: the server's event-loop threads are `NIO-ELT-…`.
func threadName() -> String {
    let file = open("/proc/thread-self/comm", O_RDONLY)
    guard file >= 0 else { return "?" }
    defer { close(file) }
    var name = [UInt8](repeating: 0, count: 64)
    let count = read(file, &name, name.count)
    return String(decoding: name.prefix(max(count, 0)).filter { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
}

@_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(MisbehavingApp.self) }
