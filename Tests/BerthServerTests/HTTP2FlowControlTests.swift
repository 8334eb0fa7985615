import NIOCore
import Testing

@testable import BerthServer

@Suite("HTTP/2 flow control both ways (RFC 9113 §5.2, §6.9)")
struct HTTP2FlowControlTests {
    @Test func consumedBytesAreHandedBackInBatches() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        _ = connection.data(1, count: 16_384)
        _ = connection.data(1, count: 16_382)
        connection.state.consumed(streamID: 1, bytes: 32_766, output: &connection.output)
        // Less than half of either window waits.
        #expect(connection.written().isEmpty)
        _ = connection.data(1, count: 1)
        connection.state.consumed(streamID: 1, bytes: 1, output: &connection.output)
        #expect(
            connection.written() == [
                ServerFrame(type: 0x8, flags: 0, stream: 1, payload: ClientFrames.u32(32_767)),
                ServerFrame(type: 0x8, flags: 0, stream: 0, payload: ClientFrames.u32(32_767)),
            ])
    }

    @Test func overrunningAStreamWindowResetsTheStream() {
        var connection = HTTP2ConnectionHarness(connectionWindowSize: 1 << 20)
        #expect(connection.open(1, endStream: false).isRequestHead)
        for _ in 0..<3 { _ = connection.data(1, count: 16_384) }
        #expect(connection.data(1, count: 16_383) != .none)
        #expect(connection.data(1, count: 1) == .streamCancelled(streamID: 1, code: .flowControlError))
        let frames = connection.written()
        #expect(frames.map(\.errorCode) == [.flowControlError])
        #expect(frames.first?.type == HTTP2FrameType.rstStream)
        // The stream's bytes, never to be consumed now, go back to the connection window.
        #expect(connection.state.streams.activeCount == 0)
    }

    @Test func overrunningTheConnectionWindowIsAConnectionError() {
        var connection = HTTP2ConnectionHarness(initialWindowSize: 1 << 20)
        #expect(connection.open(1, endStream: false).isRequestHead)
        for _ in 0..<3 { _ = connection.data(1, count: 16_384) }
        #expect(connection.data(1, count: 16_384) == .closeConnection)
        #expect(connection.written().map(\.errorCode) == [.flowControlError])
    }

    @Test func paddingCountsAndIsHandedBackAtOnce() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        // 40 000 bytes of padding: over half the window, handed back without the server.
        _ = connection.data(1, count: 10, padding: 16_374)
        _ = connection.data(1, count: 10, padding: 16_374)
        _ = connection.data(1, count: 10, padding: 7_000)
        let frames = connection.written()
        #expect(frames.map(\.stream) == [1, 0])
        #expect(frames.map(\.firstWord) == [39_748, 39_748])
    }

    @Test func unconsumedBytesReturnWhenAStreamCloses() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        _ = connection.data(1, count: 16_384)
        _ = connection.data(1, count: 16_384)
        #expect(connection.receive(.rstStream(streamID: 1, code: .cancel)) == .streamCancelled(streamID: 1, code: .cancel))
        #expect(connection.written() == [ServerFrame(type: 0x8, flags: 0, stream: 0, payload: ClientFrames.u32(32_768))])
        // A late report for the closed stream changes nothing.
        connection.state.consumed(streamID: 1, bytes: 32_768, output: &connection.output)
        #expect(connection.written().isEmpty)
    }

    @Test func ignoredDataStillCountsOnTheConnection() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        _ = connection.respond(1)
        _ = connection.written()
        // DATA after our RST_STREAM(NO_ERROR): ignored, but the connection window is charged
        // and handed back.
        _ = connection.data(1, count: 16_384)
        _ = connection.data(1, count: 16_384)
        #expect(connection.written() == [ServerFrame(type: 0x8, flags: 0, stream: 0, payload: ClientFrames.u32(32_768))])
    }

    @Test func sendableBytesFollowTheSmallestLimit() {
        var connection = HTTP2ConnectionHarness(clientSettings: [(0x4, 100)])
        #expect(connection.open(1).isRequestHead)
        #expect(connection.state.sendableBytes(streamID: 1) == 100)
        #expect(connection.state.sendDataHeader(streamID: 1, length: 100, endStream: false, output: &connection.output) == .none)
        #expect(connection.state.sendableBytes(streamID: 1) == 0)
        #expect(connection.receive(.windowUpdate(streamID: 1, increment: 50)) == .sendWindowOpened)
        #expect(connection.state.sendableBytes(streamID: 1) == 50)
        // Only the 9-byte frame header: the payload is the caller's to write.
        #expect(connection.output.readableBytes == 9)
        #expect(connection.state.sendableBytes(streamID: 3) == 0, "no such stream")

        // A large stream window: the frame size and the connection window limit instead.
        var large = HTTP2ConnectionHarness(clientSettings: [(0x4, 1 << 20)])
        #expect(large.open(1).isRequestHead)
        #expect(large.state.sendableBytes(streamID: 1) == 16_384)
        for _ in 0..<3 { _ = large.state.sendDataHeader(streamID: 1, length: 16_384, endStream: false, output: &large.output) }
        #expect(large.state.sendableBytes(streamID: 1) == 16_383)
        _ = large.state.sendDataHeader(streamID: 1, length: 16_383, endStream: false, output: &large.output)
        #expect(large.state.sendableBytes(streamID: 1) == 0)
        #expect(large.receive(.windowUpdate(streamID: 0, increment: 1 << 20)) == .sendWindowOpened)
        #expect(large.settings([(0x5, 1 << 16)]) == .sendWindowOpened)
        #expect(large.state.sendableBytes(streamID: 1) == 1 << 16)
    }

    @Test func initialWindowChangesApplyToOpenStreams() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1).isRequestHead)
        _ = connection.state.sendDataHeader(streamID: 1, length: 16_000, endStream: false, output: &connection.output)
        connection.output.clear()
        // §6.9.2: shrinking below what was sent leaves the window negative.
        #expect(connection.settings([(0x4, 10_000)]) == .none)
        #expect(connection.state.sendableBytes(streamID: 1) == 0)
        #expect(connection.settings([(0x4, 20_000)]) == .sendWindowOpened)
        #expect(connection.state.sendableBytes(streamID: 1) == 4_000)
        // A stream opened now starts at the new value.
        #expect(connection.open(3).isRequestHead)
        #expect(connection.state.sendableBytes(streamID: 3) == 16_384)
        // Growing a window past 2^31−1 this way is a connection error.
        #expect(connection.receive(.windowUpdate(streamID: 3, increment: 2_147_483_647 - 20_000)) == .sendWindowOpened)
        #expect(connection.settings([(0x4, 20_001)]) == .closeConnection)
        #expect(connection.written().last?.errorCode == .flowControlError)
    }

    @Test func windowUpdateRules() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1).isRequestHead)
        #expect(connection.open(3).isRequestHead)
        _ = connection.written()
        // An increment of 0: stream error on a stream, connection error on the connection.
        #expect(connection.receive(.windowUpdate(streamID: 1, increment: 0)) == .streamCancelled(streamID: 1, code: .protocolError))
        #expect(connection.written().map(\.errorCode) == [.protocolError])
        // Beyond 2^31−1: FLOW_CONTROL_ERROR, for the stream or the connection.
        #expect(connection.receive(.windowUpdate(streamID: 3, increment: 2_147_483_647)) == .streamCancelled(streamID: 3, code: .flowControlError))
        #expect(connection.written().map(\.errorCode) == [.flowControlError])
        // On a closed stream: ignored. On an idle one: connection error.
        #expect(connection.receive(.windowUpdate(streamID: 1, increment: 10)) == .none)
        #expect(connection.written().isEmpty)

        var zero = HTTP2ConnectionHarness()
        #expect(zero.receive(.windowUpdate(streamID: 0, increment: 0)) == .closeConnection)
        #expect(zero.written().map(\.errorCode) == [.protocolError])
        var overflow = HTTP2ConnectionHarness()
        #expect(overflow.receive(.windowUpdate(streamID: 0, increment: 2_147_483_647 - 65_535)) == .sendWindowOpened)
        #expect(overflow.receive(.windowUpdate(streamID: 0, increment: 1)) == .closeConnection)
        #expect(overflow.written().map(\.errorCode) == [.flowControlError])
        var idle = HTTP2ConnectionHarness()
        #expect(idle.receive(.windowUpdate(streamID: 5, increment: 1)) == .closeConnection)
        #expect(idle.written().map(\.errorCode) == [.protocolError])
    }
}
