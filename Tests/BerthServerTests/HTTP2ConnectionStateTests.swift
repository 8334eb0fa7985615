import NIOCore
import NIOHTTP1
import Testing

@testable import BerthServer

@Suite("HTTP/2 connection: settings, streams and their states (RFC 9113 §5.1, §6.5)")
struct HTTP2ConnectionStateTests {
    let rst = HTTP2FrameType.rstStream
    let goAway = HTTP2FrameType.goAway

    @Test func startWritesOurSettings() {
        var output = ByteBuffer()
        HTTP2ConnectionState(maxHeaderListSize: 20_000, initialWindowSize: 1 << 20, connectionWindowSize: 1 << 22).start(output: &output)
        let frames = ServerFrame.parse(output)
        #expect(frames.map(\.type) == [HTTP2FrameType.settings, HTTP2FrameType.windowUpdate])
        let entries = Array(HTTP2SettingsList(payload: ByteBuffer(bytes: frames[0].payload)))
        #expect(entries == [HTTP2SettingsEntry(0x3, 100), HTTP2SettingsEntry(0x6, 20_000), HTTP2SettingsEntry(0x4, 1 << 20), HTTP2SettingsEntry(0x2, 0)])
        #expect(frames[1].stream == 0 && frames[1].firstWord == (1 << 22) - 65_535)
    }

    @Test func peerSettingsAreCheckedAndAcknowledged() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.settings([(0x2, 1), (0x1, 8192), (0x3, 10), (0x6, 1000), (0xff, 5)]) == .none)
        #expect(connection.written() == [ServerFrame(type: 0x4, flags: 0x1, stream: 0, payload: [])])
        let invalid: [((UInt16, UInt32), HTTP2ErrorCode)] = [
            ((0x2, 2), .protocolError),
            ((0x4, 1 << 31), .flowControlError),
            ((0x5, 16_383), .protocolError),
            ((0x5, 16_777_216), .protocolError),
        ]
        for (entry, code) in invalid {
            var connection = HTTP2ConnectionHarness()
            #expect(connection.settings([entry]) == .closeConnection)
            #expect(connection.written().map(\.errorCode) == [code], "\(entry)")
        }
    }

    @Test func requestThenResponse() {
        var connection = HTTP2ConnectionHarness()
        guard case .requestHead(1, let head, 3, false) = connection.open(1, endStream: false, [("content-length", "3")]) else {
            Issue.record("expected a request head")
            return
        }
        #expect(head.uri == "/s1" && head.headers["host"] == ["example.test"])
        #expect(connection.state.state(ofStream: 1) == .open)
        #expect(connection.data(1, count: 3, endStream: true) == .requestData(streamID: 1, data: ByteBuffer(string: "aaa"), endStream: true))
        #expect(connection.state.state(ofStream: 1) == .halfClosedRemote)
        #expect(connection.state.state(ofStream: 3) == .idle)
        #expect(connection.respond(1, status: 200) == .none)
        #expect(connection.written().map(\.type) == [HTTP2FrameType.headers])
        #expect(connection.state.state(ofStream: 1) == .closed)
        #expect(connection.state.streams.activeCount == 0)
    }

    @Test func streamIdentifiersAreOddAndIncreasing() {
        var even = HTTP2ConnectionHarness()
        #expect(even.open(2) == .closeConnection)
        #expect(even.written().map(\.errorCode) == [.protocolError])

        var lower = HTTP2ConnectionHarness()
        #expect(lower.open(5).isRequestHead)
        #expect(lower.open(3) == .closeConnection)
        let frames = lower.written()
        #expect(frames.map(\.errorCode) == [.protocolError])
        #expect(frames.first?.firstWord == 5, "GOAWAY names the last stream accepted")
    }

    @Test func streamsBeyondTheLimitAreRefused() {
        var connection = HTTP2ConnectionHarness()
        for stream in stride(from: UInt32(1), through: 199, by: 2) {
            #expect(connection.open(stream).isRequestHead)
        }
        #expect(connection.state.streams.activeCount == 100)
        // The 101st stream, with a field the client's encoder adds to its dynamic table.
        #expect(connection.open(201, endStream: false, [("x-new", "1")]) == .none)
        #expect(connection.written() == [ServerFrame(type: 0x3, flags: 0, stream: 201, payload: ClientFrames.u32(7))])
        // Its DATA, sent before the client saw the reset, is ignored; the connection carries on.
        #expect(connection.data(201, count: 10) == .none)
        #expect(connection.written().isEmpty)
        #expect(connection.respond(1) == .none)
        // The refused block was decoded: the next one may refer to what it added to the table.
        guard case .requestHead(203, let head, _, _) = connection.open(203, [("x-new", "1")]) else {
            Issue.record("expected stream 203 to open")
            return
        }
        #expect(head.headers["x-new"] == ["1"])
    }

    @Test func framesOnHalfClosedAndClosedStreams() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1).isRequestHead)
        // HEADERS or DATA on a half-closed (remote) stream: stream error STREAM_CLOSED.
        #expect(connection.headers(1, [("x", "y")], endStream: true) == .streamCancelled(streamID: 1, code: .streamClosed))
        #expect(connection.written().map(\.errorCode) == [.streamClosed])
        #expect(connection.open(3).isRequestHead)
        #expect(connection.data(3, count: 1) == .streamCancelled(streamID: 3, code: .streamClosed))
        #expect(connection.written().map(\.errorCode) == [.streamClosed])
        // Streams both sides ended not long ago: stream error.
        #expect(connection.open(5).isRequestHead)
        #expect(connection.open(7).isRequestHead)
        #expect(connection.respond(5) == .none)
        #expect(connection.respond(7) == .none)
        _ = connection.written()
        #expect(connection.data(5, count: 1) == .none)
        #expect(connection.written().map(\.errorCode) == [.streamClosed])
        // HEADERS after the client's END_STREAM: a connection error (§5.1 "closed").
        var ended = connection
        #expect(ended.headers(7, [("x", "y")], endStream: true) == .closeConnection)
        #expect(ended.written().map(\.errorCode) == [.streamClosed])
        // After a reset of ours, what was already on its way is ignored.
        #expect(connection.open(9).isRequestHead)
        _ = connection.written()
        #expect(connection.state.resetStream(streamID: 9, code: .cancel, output: &connection.output) == .none)
        _ = connection.written()
        #expect(connection.data(9, count: 1) == .none)
        #expect(connection.written().isEmpty)
        // DATA on an idle stream: connection error.
        #expect(connection.data(11, count: 1) == .closeConnection)
        #expect(connection.written().map(\.errorCode) == [.protocolError])
    }

    @Test func headersOnALongClosedStreamEndTheConnection() {
        var connection = HTTP2ConnectionHarness()
        for stream in stride(from: UInt32(1), through: 401, by: 2) {
            #expect(connection.open(stream).isRequestHead)
            _ = connection.respond(stream)
        }
        _ = connection.written()
        #expect(connection.headers(1, [("x", "y")], endStream: true) == .closeConnection)
        #expect(connection.written().map(\.errorCode) == [.protocolError])
    }

    @Test func trailersEndTheRequest() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        #expect(connection.data(1, count: 5) == .requestData(streamID: 1, data: ByteBuffer(string: "aaaaa"), endStream: false))
        #expect(connection.headers(1, [("x-checksum", "abc")], endStream: true) == .requestEnd(streamID: 1))
        #expect(connection.state.state(ofStream: 1) == .halfClosedRemote)
        // Trailers without END_STREAM, or with pseudo-fields: malformed.
        #expect(connection.open(3, endStream: false).isRequestHead)
        #expect(connection.headers(3, [("x", "y")], endStream: false) == .streamCancelled(streamID: 3, code: .protocolError))
        #expect(connection.open(5, endStream: false).isRequestHead)
        #expect(connection.headers(5, [(":path", "/")], endStream: true) == .streamCancelled(streamID: 5, code: .protocolError))
    }

    @Test func bodyMustMatchContentLength() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false, [("content-length", "4")]).isRequestHead)
        #expect(connection.data(1, count: 3) != .none)
        #expect(connection.data(1, count: 2) == .streamCancelled(streamID: 1, code: .protocolError))
        #expect(connection.written().map(\.errorCode) == [.protocolError])
        // Too short when END_STREAM arrives, by DATA or by trailers.
        #expect(connection.open(3, endStream: false, [("content-length", "4")]).isRequestHead)
        #expect(connection.data(3, count: 3, endStream: true) == .streamCancelled(streamID: 3, code: .protocolError))
        #expect(connection.open(5, endStream: false, [("content-length", "4")]).isRequestHead)
        #expect(connection.headers(5, [("x", "y")], endStream: true) == .streamCancelled(streamID: 5, code: .protocolError))
        // A head with END_STREAM cannot carry a nonzero length: the server never sees it.
        #expect(connection.open(7, endStream: true, [("content-length", "4")]) == .none)
        #expect(connection.written().map(\.errorCode) == [.protocolError, .protocolError, .protocolError])
        #expect(connection.open(9, endStream: true, [("content-length", "0")]).isRequestHead)
    }

    @Test func malformedRequestsResetOnlyTheirStream() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.headers(1, [(":method", "GET"), (":path", "/")], endStream: true) == .none)
        #expect(connection.written() == [ServerFrame(type: 0x3, flags: 0, stream: 1, payload: ClientFrames.u32(1))])
        #expect(connection.open(3).isRequestHead)
    }

    @Test func undecodableFieldBlockIsACompressionError() {
        var connection = HTTP2ConnectionHarness()
        // Index 200 is in neither table.
        #expect(connection.receive(.headers(streamID: 1, fieldBlock: ByteBuffer(bytes: [0xff, 0x49]), endStream: true)) == .closeConnection)
        #expect(connection.written().map(\.errorCode) == [.compressionError])
        // Frames after the connection error change nothing.
        #expect(connection.open(3) == .none)
        #expect(connection.written().isEmpty)
    }

    @Test func clientResets() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        #expect(connection.receive(.rstStream(streamID: 1, code: .cancel)) == .streamCancelled(streamID: 1, code: .cancel))
        #expect(connection.state.state(ofStream: 1) == .closed)
        // Frames the client sends after its own reset: stream error (§5.1).
        #expect(connection.data(1, count: 1) == .none)
        #expect(connection.written().map(\.errorCode) == [.streamClosed])
        // A reset of a closed stream is ignored; of an idle one, a connection error.
        #expect(connection.receive(.rstStream(streamID: 1, code: .cancel)) == .none)
        #expect(connection.receive(.rstStream(streamID: 7, code: .cancel)) == .closeConnection)
        #expect(connection.written().map(\.errorCode) == [.protocolError])
    }

    @Test func responseEndingBeforeTheRequestResetsWithNoError() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        #expect(connection.respond(1, status: 413) == .none)
        let frames = connection.written()
        #expect(frames.map(\.type) == [HTTP2FrameType.headers, HTTP2FrameType.rstStream])
        #expect(frames.last?.errorCode == .noError)
        #expect(connection.state.state(ofStream: 1) == .closed)
        // The rest of the body, already on its way, is dropped without complaint.
        #expect(connection.data(1, count: 100, endStream: true) == .none)
        #expect(connection.written().isEmpty)
        #expect(connection.headers(1, [("x", "y")], endStream: true) == .none)
    }

    @Test func sendingOnAGoneStreamWritesNothing() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        _ = connection.receive(.rstStream(streamID: 1, code: .cancel))
        #expect(connection.respond(1) == .streamCancelled(streamID: 1, code: .streamClosed))
        #expect(connection.state.sendDataHeader(streamID: 1, length: 0, endStream: true, output: &connection.output) == .streamCancelled(streamID: 1, code: .streamClosed))
        #expect(connection.written().isEmpty)
    }

    @Test func serverResetClosesTheStream() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false).isRequestHead)
        #expect(connection.state.resetStream(streamID: 1, code: .cancel, output: &connection.output) == .none)
        #expect(connection.written().map(\.errorCode) == [.cancel])
        #expect(connection.data(1, count: 5) == .none)
        #expect(connection.written().isEmpty)
    }

    @Test func loweredHeaderTableSizeIsSignalledOnce() {
        var connection = HTTP2ConnectionHarness(clientSettings: [(0x1, 0)])
        #expect(connection.open(1).isRequestHead)
        #expect(connection.open(3).isRequestHead)
        _ = connection.respond(1, status: 200)
        _ = connection.respond(3, status: 200)
        #expect(connection.written().map(\.payload) == [[0x20, 0x88], [0x88]])
    }

    /// What the connection handler will do: bytes through the decoder, frames into the state,
    /// a decoder error into `fail`.
    @Test func bytesThroughDecoderAndState() {
        var decoder = HTTP2FrameDecoder(maxFieldBlockBytes: 16_384)
        var state = HTTP2ConnectionState(maxHeaderListSize: 16_384)
        var output = ByteBuffer()
        state.start(output: &output)
        var client = ClientEncoder()
        var input = ClientFrames.opening
        input.writeImmutableBuffer(ClientFrames.frame(type: 0x1, flags: 0x5, stream: 1, payload: Array(client.request().readableBytesView)))
        // A PING of 6 bytes: a connection error.
        input.writeImmutableBuffer(ClientFrames.frame(type: 0x6, stream: 0, payload: [1, 2, 3, 4, 5, 6]))
        var actions: [HTTP2ConnectionState.Action] = []
        do throws(HTTP2ConnectionError) {
            while let frame = try decoder.next(from: &input) {
                actions.append(state.receive(frame, now: .now(), output: &output))
            }
        } catch {
            actions.append(state.fail(error, output: &output))
        }
        #expect(actions.count == 3 && actions[0] == .none && actions[1].isRequestHead && actions[2] == .closeConnection)
        let frames = ServerFrame.parse(output)
        #expect(frames.map(\.type) == [HTTP2FrameType.settings, HTTP2FrameType.settings, HTTP2FrameType.goAway])
        #expect(frames[1].flags == 0x1)
        #expect(frames[2].firstWord == 1 && frames[2].errorCode == .frameSizeError)
    }
}
