import NIOCore
import NIOHTTP1

@testable import BerthServer

/// One connection's state machine with a client on the other side: frames go in as decoded
/// values, the server's output comes back as parsed frames, and time only moves when a test
/// moves it.
struct HTTP2ConnectionHarness {
    typealias Action = HTTP2ConnectionState.Action

    var state: HTTP2ConnectionState
    var client = ClientEncoder()
    var output = ByteBuffer()
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    init(initialWindowSize: Int = 65_535, connectionWindowSize: Int = 65_535, clientSettings: [(UInt16, UInt32)] = []) {
        self.state = HTTP2ConnectionState(
            maxHeaderListSize: 16_384, initialWindowSize: initialWindowSize, connectionWindowSize: connectionWindowSize)
        self.state.start(output: &self.output)
        _ = self.settings(clientSettings)
        self.output.clear()
    }

    mutating func receive(_ frame: HTTP2FrameDecoder.Frame) -> Action {
        self.state.receive(frame, now: self.now, output: &self.output)
    }

    mutating func settings(_ entries: [(UInt16, UInt32)]) -> Action {
        var payload = ByteBuffer()
        for (identifier, value) in entries {
            payload.writeInteger(identifier)
            payload.writeInteger(value)
        }
        return self.receive(.settings(HTTP2SettingsList(payload: payload)))
    }

    /// HEADERS opening a request on `stream`.
    mutating func open(_ stream: UInt32, endStream: Bool = true, _ extra: [(String, String)] = []) -> Action {
        self.receive(.headers(streamID: stream, fieldBlock: self.client.request("/s\(stream)", extra), endStream: endStream))
    }

    mutating func headers(_ stream: UInt32, _ fields: [(String, String)], endStream: Bool) -> Action {
        self.receive(.headers(streamID: stream, fieldBlock: self.client.block(fields), endStream: endStream))
    }

    mutating func data(_ stream: UInt32, count: Int, endStream: Bool = false, padding: Int = 0) -> Action {
        self.receive(
            .data(
                streamID: stream, payload: ByteBuffer(repeating: 0x61, count: count), endStream: endStream,
                flowControlledLength: count + padding))
    }

    /// A complete response without a body.
    mutating func respond(_ stream: UInt32, status: Int = 204) -> Action {
        var block = ByteBuffer()
        HPACKResponseEncoder.writeStatus(status, into: &block)
        return self.state.sendHeaders(streamID: stream, fieldBlock: block, endStream: true, output: &self.output)
    }

    /// The frames written since the last call.
    mutating func written() -> [ServerFrame] {
        defer { self.output.clear() }
        return ServerFrame.parse(self.output)
    }
}

extension HTTP2ConnectionState.Action {
    var isRequestHead: Bool {
        if case .requestHead = self { return true }
        return false
    }
}
