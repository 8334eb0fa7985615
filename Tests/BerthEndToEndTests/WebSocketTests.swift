import Foundation
import Testing

/// WebSockets (RFC 6455) on the hello app's `/ws/echo`, against the real binary: Python's
/// `websockets` client for what real clients do, raw frames for what hostile ones do. One at a
/// time, like the other app tests: the first start builds the app.
@Suite("WebSockets on an app, over real sockets", .serialized)
struct WebSocketTests {
    static func yaml(webSocket: String? = nil, greeting: String = "Ahoy", top: String = "", secure: TestCertificate? = nil) -> String {
        let tls = secure == nil ? "" : "\n  - { address: 127.0.0.1, port: 0, tls: true }"
        let hostTLS = secure.map { "\n    tls: { certificate: \($0.certificate), key: \($0.key) }" } ?? ""
        return """
            listen:
              - { address: 127.0.0.1, port: 0 }\(tls)
            threads: 2
            logs: { error: stderr, access: access.log }
            \(top)
            apps:
              hello:
                package: \(repositoryRoot.path)/sites/hello
                product: HelloApp
                settings: { greeting: \(greeting) }\(webSocket.map { "\n    websocket: { \($0) }" } ?? "")
            hosts:
              localhost:
                default: true\(hostTLS)
                app: hello
            """
    }

    static func start(webSocket: String? = nil, top: String = "", secure: TestCertificate? = nil) throws -> BerthProcess {
        try BerthProcess(yaml: yaml(webSocket: webSocket, top: top, secure: secure), startTimeout: 900)
    }

    @Test func pythonClientEchoesTextBinaryAndFragmentsAndGetsPongs() throws {
        let berth = try Self.start()
        let output = try PythonWebSocket.run(url: "ws://127.0.0.1:\(berth.port)/ws/echo", connect: "max_size=None", """
            await ws.send("héllo")
            print(repr(await ws.recv()))
            await ws.send(bytes([0, 1, 255]))
            print(list(await ws.recv()))
            await ws.send(["frag", "men", "ted"])
            print(await ws.recv())
            await ws.send(b"x" * 200000)
            print(len(await ws.recv()))
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 5)
            print("pong")
            await ws.close()
            print("closed", ws.close_code)
            """)
        #expect(output == "'héllo'\n[0, 1, 255]\nfragmented\n200000\npong\nclosed 1000\n")
        // The handshake is logged like any answer, with its 101.
        let log = berth.directory.appendingPathComponent("access.log")
        #expect(ProcessTools.waitForFile(log) { $0.contains("\"GET /ws/echo HTTP/1.1\" 101 ") }, "no access log line for the upgrade")
    }

    @Test func anOversizedMessageIsRefusedWith1009() throws {
        let berth = try Self.start(webSocket: "max_message: 1KiB")
        let output = try PythonWebSocket.run(url: "ws://127.0.0.1:\(berth.port)/ws/echo", """
            await ws.send("x" * 1024)
            print(len(await ws.recv()))
            await ws.send("x" * 1025)
            try:
                await ws.recv()
            except websockets.ConnectionClosed as closed:
                print("closed", closed.rcvd.code)
            """)
        #expect(output == "1024\nclosed 1009\n")
        // Fragments count together.
        let wire = try WebSocketWire(port: berth.port)
        #expect(wire.response.status == 101)
        try wire.send(.init(fin: false, opcode: 0x2, payload: [UInt8](repeating: 1, count: 600)))
        try wire.send(.init(fin: true, opcode: 0x0, payload: [UInt8](repeating: 1, count: 600)))
        #expect(try wire.receive().closeCode == 1009)
        #expect(wire.connection.isClosedByPeer())
    }

    @Test func hostileFramesFailTheConnectionWithTheRightCode() throws {
        let berth = try Self.start()
        // RFC 6455 §5.1: a client frame must be masked.
        let unmasked = try WebSocketWire(port: berth.port)
        #expect(unmasked.response.status == 101)
        #expect(unmasked.response.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        try unmasked.send(.init(opcode: 0x1, payload: Array("hi".utf8)), masked: false)
        #expect(try unmasked.receive().closeCode == 1002)
        #expect(unmasked.connection.isClosedByPeer())
        // §8.1: text must be UTF-8.
        let badText = try WebSocketWire(port: berth.port)
        try badText.send(.init(opcode: 0x1, payload: [0x68, 0xC3, 0x28]))
        #expect(try badText.receive().closeCode == 1007)
        #expect(badText.connection.isClosedByPeer())
        // §5.2: a reserved opcode; §5.4: a continuation with nothing to continue.
        for bad: WebSocketWire.Frame in [.init(opcode: 0x3, payload: []), .init(opcode: 0x0, payload: [1])] {
            let wire = try WebSocketWire(port: berth.port)
            try wire.send(bad)
            #expect(try wire.receive().closeCode == 1002, "opcode \(bad.opcode)")
        }
        // §5.5: a control frame longer than 125 bytes.
        let longPing = try WebSocketWire(port: berth.port)
        try longPing.send(.init(opcode: 0x9, payload: [UInt8](repeating: 0, count: 126)))
        #expect(try longPing.receive().closeCode == 1002)
    }

    @Test func pingsArePongedAndACloseIsEchoed() throws {
        let berth = try Self.start()
        let wire = try WebSocketWire(port: berth.port)
        try wire.send(.init(opcode: 0x9, payload: Array("tick".utf8)))
        #expect(try wire.receive() == .init(opcode: 0xA, payload: Array("tick".utf8)))
        #expect(try wire.echo("still open") == "still open")
        try wire.send(.init(opcode: 0x8, payload: [0x0F, 0xA1] + Array("done".utf8)))
        #expect(try wire.receive().closeCode == 4001)
        #expect(wire.connection.isClosedByPeer())
    }

    /// Frames sent in the same write as the handshake reach the WebSocket handler, not the
    /// HTTP/1.1 parser.
    @Test func framesRightBehindTheHandshakeAreRead() throws {
        let berth = try Self.start()
        let wire = try WebSocketWire(port: berth.port, early: [.init(opcode: 0x1, payload: Array("early".utf8))])
        #expect(wire.response.status == 101)
        #expect(try wire.receive() == .init(opcode: 0x1, payload: Array("early".utf8)))
        #expect(try wire.echo("later") == "later")
    }

    @Test func anIdleConnectionIsClosedWith1001() throws {
        let berth = try Self.start(webSocket: "idle_timeout: 1s")
        let wire = try WebSocketWire(port: berth.port)
        #expect(try wire.echo("one") == "one")
        let started = Date()
        let close = try wire.receive()
        #expect(close.closeCode == 1001)
        #expect(Date().timeIntervalSince(started) > 0.5)
        try wire.send(.init(opcode: 0x8, payload: close.payload))
        #expect(wire.connection.isClosedByPeer())
    }

    @Test func badHandshakesGetTheRightStatus() throws {
        let certificate = try TestCertificates.make(["localhost"])
        let berth = try Self.start(secure: certificate)
        // A plain request to a WebSocket route: 426, naming the protocol (RFC 9110 §15.5.22).
        let plain = try berth.request("/ws/echo")
        #expect(plain.status == 426)
        #expect(plain.header("upgrade") == "websocket")
        func handshake(_ fields: [String: String], method: String = "GET") throws -> WireResponse {
            var all = ["Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                       "Sec-WebSocket-Version": "13"]
            all.merge(fields) { $1 }
            return try berth.request("/ws/echo", method: method, headers: all.filter { !$0.value.isEmpty })
        }
        // §4.4: another version gets 426 and the version this server speaks.
        let version = try handshake(["Sec-WebSocket-Version": "8"])
        #expect(version.status == 426)
        #expect(version.header("sec-websocket-version") == "13")
        #expect(try handshake(["Sec-WebSocket-Key": ""]).status == 400)
        #expect(try handshake(["Sec-WebSocket-Key": "bm90IDE2IGJ5dGVz"]).status == 400)
        #expect(try handshake(["Connection": "keep-alive"]).status == 400)
        #expect(try handshake([:], method: "POST").status == 405)
        // HTTP/2 has no Upgrade (and no extended CONNECT here): 426, use HTTP/1.1.
        let curl = try Tool.run(Tool.curl, ["-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                                            "https://localhost:\(berth.securePorts[0])/ws/echo",
                                            "--resolve", "localhost:\(berth.securePorts[0]):127.0.0.1"])
        #expect(curl.text == "2 426")
        // Over TLS, HTTP/1.1 upgrades like plain HTTP.
        let secure = try PythonWebSocket.run(
            url: "wss://localhost:\(berth.securePorts[0])/ws/echo",
            connect: "ssl=__import__('ssl')._create_unverified_context()", """
            await ws.send("over tls")
            print(await ws.recv())
            """)
        #expect(secure == "over tls\n")
        // The app's other routes are untouched.
        #expect(try berth.request("/hello/you").text == "Ahoy, you!")
    }

    /// A reload leaves the old generation's WebSockets open (past `drain_timeout`) while new
    /// connections reach the new app code; the admin endpoint counts them as draining, and
    /// the old generation retires once the last one closes.
    @Test func aWebSocketStaysOpenAcrossAReload() throws {
        let top = "admin: { port: 0 }\ndrain_timeout: 1s"
        let berth = try BerthProcess(yaml: Self.yaml(greeting: "Ahoy", top: top), startTimeout: 900)
        let admin = try #require(berth.adminPort)
        let wire = try WebSocketWire(port: berth.port, timeout: 30)
        #expect(try wire.echo("before") == "before")
        try berth.rewriteConfig(Self.yaml(greeting: "Hullo", top: top))
        berth.signal(SIGHUP)
        #expect(berth.waitForLog(containing: "reloaded config.generation=2 ", timeout: 60) != nil)
        #expect(try berth.request("/hello/you").text == "Hullo, you!", "a new connection reaches the new generation")
        #expect(try AdminClient.waitForMetric("berth_draining_connections", atLeast: 1, port: admin, timeout: 10))
        #expect(try AdminClient.waitForMetric("berth_websocket_open_connections", atLeast: 1, port: admin, timeout: 10))
        // Longer than drain_timeout: the WebSocket is still served by the old worker.
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try wire.echo("after") == "after")
        #expect(!berth.errorLog.contains("generation retired config.generation=1"))
        try wire.send(.init(opcode: 0x8, payload: [0x03, 0xE8]))
        #expect(try wire.receive().closeCode == 1000)
        #expect(berth.waitForLog(containing: "generation retired config.generation=1", timeout: 15) != nil)
        #expect(try AdminClient.get("/metrics", port: admin).text.contains("berth_draining_connections 0\n"))
    }

    /// `websocket_drain` bounds how long an old generation's WebSockets stay: then they get a
    /// close frame (1001, going away) and the old worker exits.
    @Test func websocketDrainBoundsTheOldGeneration() throws {
        let top = "drain_timeout: 1s\nwebsocket_drain: 2s"
        let berth = try BerthProcess(yaml: Self.yaml(top: top), startTimeout: 900)
        let wire = try WebSocketWire(port: berth.port, timeout: 30)
        #expect(try wire.echo("before") == "before")
        berth.signal(SIGHUP)
        #expect(berth.waitForLog(containing: "reloaded config.generation=2 ", timeout: 60) != nil)
        let close = try wire.receive()
        #expect(close.closeCode == 1001)
        try wire.send(.init(opcode: 0x8, payload: close.payload))
        #expect(wire.connection.isClosedByPeer())
        #expect(berth.waitForLog(containing: "generation retired config.generation=1", timeout: 15) != nil)
    }

    /// A stop while a reload's drain keeps WebSockets open closes them with 1001 at once
    /// rather than letting the master kill the old workers at its bound.
    @Test func aStopDuringAReloadsDrainClosesTheWebSocketsToo() throws {
        let berth = try BerthProcess(yaml: Self.yaml(top: "drain_timeout: 1s"), startTimeout: 900)
        let wire = try WebSocketWire(port: berth.port, timeout: 30)
        #expect(try wire.echo("before") == "before")
        berth.signal(SIGHUP)
        #expect(berth.waitForLog(containing: "reloaded config.generation=2 ", timeout: 60) != nil)
        #expect(try wire.echo("draining") == "draining")
        let started = Date()
        berth.signal(SIGTERM)
        let close = try wire.receive()
        #expect(close.closeCode == 1001)
        try wire.send(.init(opcode: 0x8, payload: close.payload))
        #expect(wire.connection.isClosedByPeer())
        #expect(berth.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 5, "the stop waited for the master to kill the old worker")
        #expect(!berth.errorLog.contains("killing it"))
    }
}
