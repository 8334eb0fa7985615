import BerthApp
import NIOCore
import NIOWebSocket
import Testing

@testable import BerthServer

@Suite("WebSocket connection rules (RFC 6455) as a state machine")
struct WebSocketStateTests {
    static let mask: WebSocketMaskingKey = [0x12, 0x34, 0x56, 0x78]

    /// A client frame: masked unless told otherwise, as RFC 6455 §5.3 requires of clients.
    func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, masked: Bool = true,
               rsv1: Bool = false) -> WebSocketFrame {
        var data = ByteBuffer(bytes: payload)
        if masked { data.webSocketMask(Self.mask) }
        return WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: masked ? Self.mask : nil, data: data)
    }

    func text(_ string: String, fin: Bool = true) -> WebSocketFrame { frame(.text, Array(string.utf8), fin: fin) }

    func close(_ code: UInt16?, reason: [UInt8] = []) -> WebSocketFrame {
        var payload: [UInt8] = []
        if let code { payload = [UInt8(code >> 8), UInt8(code & 0xFF)] }
        return frame(.connectionClose, payload + reason)
    }

    func failure(_ code: UInt16) -> WebSocketState.Action { .sendClose(code: code, reason: "", thenClose: true) }

    @Test func wholeTextAndBinaryMessagesAreDelivered() {
        var state = WebSocketState(maxMessage: 100)
        #expect(state.received(text("héllo")) == .deliver(.text("héllo")))
        #expect(state.received(frame(.binary, [0, 1, 255])) == .deliver(.binary([0, 1, 255])))
        #expect(state.received(text("")) == .deliver(.text("")))
    }

    @Test func fragmentsAreJoinedAndControlFramesMayComeBetweenThem() {
        var state = WebSocketState(maxMessage: 100)
        #expect(state.received(text("Hel", fin: false)) == .none)
        #expect(state.received(frame(.ping, [7])) == .pong(ByteBuffer(bytes: [7])))
        #expect(state.received(frame(.continuation, Array("lo, ".utf8), fin: false)) == .none)
        #expect(state.received(frame(.continuation, Array("world".utf8))) == .deliver(.text("Hello, world")))
    }

    /// A character split across fragments is valid: UTF-8 is checked on the whole message.
    @Test func utf8IsCheckedOnTheWholeMessage() {
        var state = WebSocketState(maxMessage: 100)
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        #expect(state.received(frame(.text, Array(euro[0..<1]), fin: false)) == .none)
        #expect(state.received(frame(.continuation, Array(euro[1...]))) == .deliver(.text("€")))
        #expect(state.received(frame(.text, [0xC3, 0x28])) == failure(1007))
        #expect(state.phase == .closed)
        #expect(state.received(text("late")) == .none, "nothing is read after the connection failed")
    }

    @Test func unmaskedFramesReservedBitsAndUnknownOpcodesAreProtocolErrors() {
        var unmasked = WebSocketState(maxMessage: 100)
        #expect(unmasked.received(frame(.text, Array("hi".utf8), masked: false)) == failure(1002))
        var reserved = WebSocketState(maxMessage: 100)
        #expect(reserved.received(frame(.text, Array("hi".utf8), rsv1: true)) == failure(1002))
        var opcode = WebSocketState(maxMessage: 100)
        #expect(opcode.received(frame(WebSocketOpcode(encodedWebSocketOpcode: 0x3)!, [])) == failure(1002))
        #expect(opcode.received(frame(.ping, [])) == .none)
    }

    @Test func fragmentsOutOfOrderAreProtocolErrors() {
        var orphan = WebSocketState(maxMessage: 100)
        #expect(orphan.received(frame(.continuation, [1])) == failure(1002))
        var interleaved = WebSocketState(maxMessage: 100)
        #expect(interleaved.received(text("a", fin: false)) == .none)
        #expect(interleaved.received(text("b")) == failure(1002))
    }

    /// §7.4.1: 1009 for a message too big to process, counted over all its fragments.
    @Test func messagesOverTheLimitAreRefusedWith1009() {
        var single = WebSocketState(maxMessage: 4)
        #expect(single.received(frame(.binary, [1, 2, 3, 4])) == .deliver(.binary([1, 2, 3, 4])))
        #expect(single.received(frame(.binary, [1, 2, 3, 4, 5])) == failure(1009))
        var fragmented = WebSocketState(maxMessage: 4)
        #expect(fragmented.received(frame(.binary, [1, 2, 3], fin: false)) == .none)
        #expect(fragmented.received(frame(.continuation, [4, 5])) == failure(1009))
        var decoded = WebSocketState(maxMessage: 4)
        #expect(decoded.decodingFailed(tooLarge: true) == failure(1009))
        var control = WebSocketState(maxMessage: 4)
        #expect(control.decodingFailed(tooLarge: false) == failure(1002))
    }

    @Test func aClientCloseIsEchoedAndEndsTheConnection() {
        var state = WebSocketState(maxMessage: 100)
        #expect(state.received(close(4001, reason: Array("bye".utf8))) == .sendClose(code: 4001, reason: "", thenClose: true))
        #expect(state.phase == .closed)
        #expect(!state.acceptsMessages)
        var empty = WebSocketState(maxMessage: 100)
        #expect(empty.received(close(nil)) == .sendClose(code: 1000, reason: "", thenClose: true))
    }

    @Test func badCloseFramesFailTheConnection() {
        var oneByte = WebSocketState(maxMessage: 100)
        #expect(oneByte.received(frame(.connectionClose, [0x03])) == failure(1002))
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            var state = WebSocketState(maxMessage: 100)
            #expect(state.received(close(code)) == failure(1002), "code \(code)")
        }
        var reason = WebSocketState(maxMessage: 100)
        #expect(reason.received(close(1000, reason: [0xFF])) == failure(1007))
    }

    @Test func aServerCloseWaitsForTheClientsAnswer() {
        var state = WebSocketState(maxMessage: 100)
        #expect(state.close(code: .goingAway, reason: "idle timeout") == .sendClose(code: 1001, reason: "idle timeout", thenClose: false))
        #expect(state.phase == .closeSent)
        #expect(!state.acceptsMessages)
        // Data after our close is dropped, pings are no longer answered (§5.5.1).
        #expect(state.received(text("late")) == .none)
        #expect(state.received(frame(.ping, [])) == .none)
        #expect(state.close(code: .normalClosure, reason: "") == .none, "one close frame only")
        #expect(state.received(close(1000)) == .closeConnection)
        #expect(state.phase == .closed)
    }

    @Test func anUnansweredServerCloseTimesOut() {
        var state = WebSocketState(maxMessage: 100)
        _ = state.close(code: .normalClosure, reason: "")
        #expect(state.closeReplyTimedOut() == .closeConnection)
        // A protocol error after our close ends the connection without a second close frame.
        var failing = WebSocketState(maxMessage: 100)
        _ = failing.close(code: .normalClosure, reason: "")
        #expect(failing.received(frame(.text, [1], masked: false)) == .closeConnection)
    }

    @Test func closeCodesAndReasonsFromTheAppAreMadeSendable() {
        var state = WebSocketState(maxMessage: 100)
        #expect(state.close(code: 1005, reason: String(repeating: "é", count: 100))
            == .sendClose(code: 1000, reason: String(repeating: "é", count: 61), thenClose: false))
        #expect(WebSocketState.mayBeSent(4999))
        #expect(!WebSocketState.mayBeSent(1006))
    }

    @Test func theEndOfInputClosesTheConnection() {
        var state = WebSocketState(maxMessage: 100)
        #expect(state.inputEnded() == .closeConnection)
        #expect(state.inputEnded() == .none)
    }
}
