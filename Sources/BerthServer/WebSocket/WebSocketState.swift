@_spi(BerthServer) import BerthApp
import NIOCore
import NIOWebSocket

/// The rules of one WebSocket connection after the handshake (RFC 6455 §5–§7), as a plain
/// state machine: frames from the client, the app's sends and closes, and timers go in;
/// what the connection handler must do comes out. No I/O, so every rule is tested without
/// sockets.
///
/// - Frames from a client must be masked (§5.1) and use no reserved bits (§5.2, no
///   extension is negotiated) or opcodes (§5.2): otherwise 1002.
/// - Fragments (§5.4) are joined into one message; a continuation without a start, or a new
///   message inside a fragmented one, is 1002; a message over `maxMessage` is 1009 (§7.4.1).
/// - Text must be UTF-8 (§8.1): 1007.
/// - Ping gets a pong with the same data (§5.5.2); pongs are taken as they come.
/// - Close (§5.5.1, §7): a client's close is answered with the same code, and the connection
///   ends; the server's close waits for the client's answer (the handler bounds the wait).
///   A close frame with a one-byte body or a code that may not be sent is 1002, a reason
///   that is not UTF-8 is 1007.
struct WebSocketState {
    enum Phase: Equatable {
        case open
        /// The server sent its close frame and waits for the client's.
        case closeSent
        /// Nothing more is read or written; the connection is being closed.
        case closed
    }

    enum Action: Equatable {
        case none
        /// Hand the message to the app.
        case deliver(WebSocketMessage)
        /// Answer a ping (§5.5.3: with its application data).
        case pong(ByteBuffer)
        /// Send a close frame. `thenClose`: close the connection once it is written (the close
        /// handshake is complete, or the connection failed); otherwise wait for the client's.
        case sendClose(code: UInt16, reason: String, thenClose: Bool)
        /// Close the connection now.
        case closeConnection
    }

    let maxMessage: Int
    private(set) var phase = Phase.open
    /// The message being assembled from fragments: its opcode and the bytes so far.
    private var fragments: (opcode: WebSocketOpcode, bytes: ByteBuffer)?

    init(maxMessage: Int) {
        self.maxMessage = maxMessage
    }

    // MARK: - From the client

    mutating func received(_ frame: WebSocketFrame) -> Action {
        guard self.phase != .closed else { return .none }
        guard frame.reservedBits.isEmpty else { return self.fail(.protocolError) }
        guard frame.maskKey != nil else { return self.fail(.protocolError) }
        switch frame.opcode {
        case .text, .binary:
            guard self.fragments == nil else { return self.fail(.protocolError) }
            guard frame.length <= self.maxMessage else { return self.fail(.messageTooBig) }
            if frame.fin { return self.complete(frame.opcode, frame.unmaskedData) }
            self.fragments = (frame.opcode, frame.unmaskedData)
            return .none
        case .continuation:
            guard case (let opcode, var bytes)? = self.fragments else { return self.fail(.protocolError) }
            guard frame.length <= self.maxMessage - bytes.readableBytes else { return self.fail(.messageTooBig) }
            self.fragments = nil
            var data = frame.unmaskedData
            bytes.writeBuffer(&data)
            if frame.fin { return self.complete(opcode, bytes) }
            self.fragments = (opcode, bytes)
            return .none
        case .ping:
            return self.phase == .open ? .pong(frame.unmaskedData) : .none
        case .pong:
            return .none
        case .connectionClose:
            return self.closeReceived(frame.unmaskedData)
        default:
            return self.fail(.protocolError)
        }
    }

    private mutating func complete(_ opcode: WebSocketOpcode, _ bytes: ByteBuffer) -> Action {
        // After our close, data still arriving is read and dropped (§5.5.1).
        guard self.phase == .open else { return .none }
        if opcode == .text {
            guard let text = Self.text(bytes) else { return self.fail(.invalidPayload) }
            return .deliver(.text(text))
        }
        return .deliver(.binary(Array(bytes.readableBytesView)))
    }

    private mutating func closeReceived(_ payload: ByteBuffer) -> Action {
        var payload = payload
        var code = WebSocketCloseCode.normalClosure
        if payload.readableBytes > 0 {
            guard let number = payload.readInteger(as: UInt16.self) else { return self.fail(.protocolError) }
            guard Self.mayBeSent(Int(number)) else { return self.fail(.protocolError) }
            guard Self.text(payload) != nil else { return self.fail(.invalidPayload) }
            code = WebSocketCloseCode(Int(number))
        }
        switch self.phase {
        case .open:
            // §5.5.1: answer with a close, echoing the status code, then end the connection.
            self.phase = .closed
            return .sendClose(code: UInt16(code.code), reason: "", thenClose: true)
        case .closeSent:
            self.phase = .closed
            return .closeConnection
        case .closed:
            return .none
        }
    }

    /// §7.1.7, "Fail the WebSocket Connection": a close frame with the reason, then the end.
    private mutating func fail(_ code: WebSocketCloseCode) -> Action {
        let wasClosing = self.phase == .closeSent
        self.phase = .closed
        self.fragments = nil
        // After our own close frame, no second one may be sent (§5.5.1).
        return wasClosing ? .closeConnection : .sendClose(code: UInt16(code.code), reason: "", thenClose: true)
    }

    /// The frame decoder refused a frame: too long for `maxMessage` (1009), or a control frame
    /// that is fragmented or longer than 125 bytes (1002).
    mutating func decodingFailed(tooLarge: Bool) -> Action {
        guard self.phase != .closed else { return .none }
        return self.fail(tooLarge ? .messageTooBig : .protocolError)
    }

    /// The client closed its side without a close frame (1006 for the app: the messages end).
    mutating func inputEnded() -> Action {
        guard self.phase != .closed else { return .none }
        self.phase = .closed
        return .closeConnection
    }

    // MARK: - From the app and the timers

    /// Whether the app may send a message now.
    var acceptsMessages: Bool { self.phase == .open }

    /// The app closes (or its handler returned: 1000, or threw: 1011), the connection was idle
    /// too long, or the drain bound passed (1001).
    mutating func close(code: WebSocketCloseCode, reason: String) -> Action {
        guard self.phase == .open else { return .none }
        self.phase = .closeSent
        let sendable = Self.mayBeSent(code.code) ? code.code : 1000
        return .sendClose(code: UInt16(sendable), reason: Self.shortened(reason), thenClose: false)
    }

    /// The client did not answer our close in time.
    mutating func closeReplyTimedOut() -> Action {
        guard self.phase == .closeSent else { return .none }
        self.phase = .closed
        return .closeConnection
    }

    /// The bytes as a string, or nil when they are not UTF-8 (§8.1).
    private static func text(_ bytes: ByteBuffer) -> String? {
        bytes.withUnsafeReadableBytes { String(validating: $0.bindMemory(to: UInt8.self), as: UTF8.self) }
    }

    // MARK: - Codes

    /// §7.4.1 and the IANA registry: codes an endpoint may put in a close frame. 1005, 1006
    /// and 1015 are reserved for reporting; 1004 and 1016–2999 are unassigned.
    static func mayBeSent(_ code: Int) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// A control frame carries at most 125 bytes (§5.5): the reason gets 123, cut at a
    /// character boundary.
    static func shortened(_ reason: String) -> String {
        guard reason.utf8.count > 123 else { return reason }
        var result = ""
        for character in reason {
            guard result.utf8.count + character.utf8.count <= 123 else { break }
            result.append(character)
        }
        return result
    }
}
