import NIOCore
import Testing

@testable import BerthServer

/// Rules of RFC 9113 that fuzzing the HTTP/2 layer (`fuzz/run.sh h2frames`, `hpack`) found
/// broken, each as a plain test. The reproducers are in Tests/FuzzReplayTests/Corpus.
@Suite("HTTP/2 rules fuzzing found broken")
struct HTTP2FuzzFindingsTests {
    /// Even stream identifiers are the server's (§5.1.1), and this server never pushes: a frame
    /// on one is a frame on an idle stream, a connection error (§5.1), even below the client's
    /// highest stream. Answering it with RST_STREAM, as for a closed stream, sends RST_STREAM
    /// on an idle stream, which §6.4 forbids and a strict client treats as a connection error.
    /// (Corpus/h2frames/data-on-even-stream)
    @Test(arguments: [
        HTTP2FrameDecoder.Frame.data(streamID: 4, payload: ByteBuffer(), endStream: false, flowControlledLength: 0),
        .windowUpdate(streamID: 4, increment: 0),
        .windowUpdate(streamID: 4, increment: 1),
        .rstStream(streamID: 4, code: .cancel),
    ])
    func framesOnEvenStreamsEndTheConnection(_ frame: HTTP2FrameDecoder.Frame) {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(5).isRequestHead)
        _ = connection.written()
        #expect(connection.state.state(ofStream: 4) == .idle)
        #expect(connection.receive(frame) == .closeConnection)
        let written = connection.written()
        #expect(written.map(\.type) == [HTTP2FrameType.goAway])
        #expect(written.map(\.errorCode) == [.protocolError])
    }

    /// A response complete while a short rest of the request body is still to come leaves the
    /// stream half-closed (local), and the rest is read and dropped (§8.1). The client sends it
    /// within the stream's window, which must keep being handed back: it was not, so a rest
    /// larger than what was left of the window stalled the upload until the connection closed.
    /// (Corpus/h2frames/drained-body-needs-window)
    @Test func aDrainedRequestBodyStillGetsWindow() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1, endStream: false, [("content-length", "65536")]).isRequestHead)
        #expect(connection.respond(1) == .none)
        #expect(connection.state.state(ofStream: 1) == .halfClosedLocal)
        _ = connection.written()
        for _ in 0..<3 { #expect(connection.data(1, count: 16_384) == .none) }
        #expect(connection.data(1, count: 16_383) == .none)
        let updates = connection.written().filter { $0.type == HTTP2FrameType.windowUpdate }
        #expect(updates.map(\.stream) == [1, 0, 1, 0], "both windows are handed back in halves")
        #expect(connection.data(1, count: 1, endStream: true) == .none)
        #expect(connection.state.state(ofStream: 1) == .closed)
    }
}
