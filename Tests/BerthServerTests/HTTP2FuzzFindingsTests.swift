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
}
