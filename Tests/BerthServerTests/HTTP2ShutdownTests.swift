import NIOCore
import Testing

@testable import BerthServer

@Suite("HTTP/2 GOAWAY, graceful shutdown and flood protection (RFC 9113 §6.8)")
struct HTTP2ShutdownTests {
    @Test func gracefulShutdownInTwoSteps() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1).isRequestHead)
        #expect(connection.state.beginGracefulShutdown(output: &connection.output) == .none)
        let announce = connection.written()
        #expect(announce.map(\.type) == [HTTP2FrameType.goAway, HTTP2FrameType.ping])
        #expect(announce[0].firstWord == 0x7fff_ffff && announce[0].errorCode == .noError)
        // A stream the client opened before it saw the GOAWAY is still served.
        #expect(connection.open(3).isRequestHead)
        // A PING ACK that is not ours changes nothing.
        #expect(connection.receive(.pingAck(opaque: 1)) == .none)
        #expect(connection.receive(.pingAck(opaque: announce[1].payload.reduce(0) { $0 << 8 | UInt64($1) })) == .none)
        let final = connection.written()
        #expect(final.map(\.type) == [HTTP2FrameType.goAway])
        #expect(final[0].firstWord == 3)
        // Streams above the last one are ignored, without a reset.
        #expect(connection.open(5) == .none)
        #expect(connection.written().isEmpty)
        #expect(connection.respond(1) == .none)
        #expect(connection.respond(3) == .closeConnection)
    }

    @Test func gracefulShutdownOfAnIdleConnectionClosesOnThePingAck() {
        var connection = HTTP2ConnectionHarness()
        _ = connection.state.beginGracefulShutdown(output: &connection.output)
        #expect(connection.state.beginGracefulShutdown(output: &connection.output) == .none)
        #expect(connection.written().count == 2, "a second request sends nothing more")
        #expect(connection.receive(.pingAck(opaque: HTTP2ConnectionState.shutdownPing)) == .closeConnection)
        #expect(connection.written().map(\.firstWord) == [0])
    }

    @Test func serverMayStopWaitingForThePingAck() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1).isRequestHead)
        _ = connection.state.beginGracefulShutdown(output: &connection.output)
        _ = connection.written()
        #expect(connection.state.stopAcceptingStreams(output: &connection.output) == .none)
        #expect(connection.written().map(\.firstWord) == [1])
        #expect(connection.respond(1) == .closeConnection)
    }

    @Test func peerGoAwayFinishesOpenStreams() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1).isRequestHead)
        #expect(connection.receive(.goAway(lastStreamID: 0, code: .noError)) == .none)
        #expect(connection.respond(1) == .closeConnection)
        #expect(connection.written().last?.type == HTTP2FrameType.goAway)
        var idle = HTTP2ConnectionHarness()
        #expect(idle.receive(.goAway(lastStreamID: 0, code: .noError)) == .closeConnection)
    }

    @Test func connectionErrorNamesTheLastStreamAndCloses() {
        var connection = HTTP2ConnectionHarness()
        #expect(connection.open(1).isRequestHead)
        #expect(connection.open(3).isRequestHead)
        let error = HTTP2ConnectionError(.frameSizeError, "PING of 6 bytes, expected 8")
        #expect(connection.state.fail(error, output: &connection.output) == .closeConnection)
        let frames = connection.written()
        #expect(frames.count == 1 && frames[0].firstWord == 3 && frames[0].errorCode == .frameSizeError)
        #expect(frames[0].payload.dropFirst(8) == ArraySlice("PING of 6 bytes, expected 8".utf8))
        #expect(connection.state.sendableBytes(streamID: 1) == 0)
        #expect(connection.receive(.ping(opaque: 1)) == .none)
        #expect(connection.written().isEmpty)
    }

    // MARK: - Floods

    /// Sends `event` `count` times, `spacing` apart; the actions.
    func flood(_ count: Int, spacing: TimeAmount = .zero, _ connection: inout HTTP2ConnectionHarness, _ event: (inout HTTP2ConnectionHarness, Int) -> HTTP2ConnectionState.Action) -> [HTTP2ConnectionState.Action] {
        var actions: [HTTP2ConnectionState.Action] = []
        for index in 0..<count {
            actions.append(event(&connection, index))
            connection.now = connection.now + spacing
        }
        return actions
    }

    func endsCalm(_ connection: inout HTTP2ConnectionHarness) -> Bool {
        connection.written().last.map { $0.type == HTTP2FrameType.goAway && $0.errorCode == .enhanceYourCalm } ?? false
    }

    @Test func pingFlood() {
        var connection = HTTP2ConnectionHarness()
        // With the client's opening SETTINGS, the 200th PING is the 201st control frame.
        let actions = self.flood(200, &connection) { connection, _ in connection.receive(.ping(opaque: 1)) }
        #expect(actions.dropLast().allSatisfy { $0 == .none })
        #expect(actions.last == .closeConnection)
        #expect(self.endsCalm(&connection))
    }

    @Test func theBudgetRefillsWithTime() {
        var connection = HTTP2ConnectionHarness()
        #expect(self.flood(199, &connection) { connection, _ in connection.receive(.ping(opaque: 1)) }.allSatisfy { $0 == .none })
        connection.now = connection.now + .seconds(30)
        let actions = self.flood(201, &connection) { connection, _ in connection.receive(.ping(opaque: 1)) }
        #expect(actions.firstIndex(of: .closeConnection) == 200)
    }

    @Test func controlFramesAtAnHonestRateAreFine() {
        var connection = HTTP2ConnectionHarness()
        // 1000 PINGs, one every 200 ms (150 ms each is the sustained limit).
        let actions = self.flood(1000, spacing: .milliseconds(200), &connection) { connection, _ in connection.receive(.ping(opaque: 1)) }
        #expect(actions.allSatisfy { $0 == .none })
    }

    @Test func otherControlFramesCount() {
        let events: [(inout HTTP2ConnectionHarness, Int) -> HTTP2ConnectionState.Action] = [
            { connection, _ in connection.settings([]) },
            { connection, _ in connection.receive(.priority(streamID: 1)) },
            { connection, _ in connection.data(1, count: 0) },
            { connection, _ in connection.receive(.windowUpdate(streamID: 3, increment: 1)) },
        ]
        for event in events {
            var connection = HTTP2ConnectionHarness()
            #expect(connection.open(1, endStream: false).isRequestHead)
            #expect(connection.open(3).isRequestHead)
            _ = connection.respond(3)
            let actions = self.flood(200, &connection, event)
            #expect(actions.firstIndex(of: .closeConnection) == 199)
            #expect(self.endsCalm(&connection))
        }
    }

    @Test func rapidReset() {
        var connection = HTTP2ConnectionHarness()
        let actions = self.flood(201, &connection) { connection, index in
            let stream = UInt32(2 * index + 1)
            _ = connection.open(stream, endStream: false)
            return connection.receive(.rstStream(streamID: stream, code: .cancel))
        }
        #expect(actions.dropLast().allSatisfy { if case .streamCancelled = $0 { true } else { false } })
        #expect(actions.last == .closeConnection)
        #expect(self.endsCalm(&connection))
    }

    @Test func streamErrorFlood() {
        var connection = HTTP2ConnectionHarness()
        let actions = self.flood(201, &connection) { connection, index in
            connection.headers(UInt32(2 * index + 1), [(":method", "GET")], endStream: true)
        }
        #expect(actions.dropLast().allSatisfy { $0 == .none })
        #expect(actions.last == .closeConnection)
        #expect(self.endsCalm(&connection))
    }
}
