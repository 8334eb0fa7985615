import NIOCore
import Testing

@testable import BerthServer

@Suite("Connection timers and head size as a state machine")
struct ConnectionGuardStateTests {
    func makeState() -> ConnectionGuardState {
        ConnectionGuardState(
            headerTimeout: .seconds(10), bodyTimeout: .seconds(30), idleTimeout: .seconds(60),
            maxRequestLineBytes: 100, maxHeadBytes: 1000)
    }

    @Test func idleThenHeadThenBodyThenIdle() {
        var state = makeState()
        #expect(state.connectionStarted() == .arm(.seconds(60)))
        #expect(state.expired() == .closeSilently)
        #expect(state.bytesRead() == .arm(.seconds(10)))
        #expect(state.phase == .readingHead)
        #expect(state.expired() == .requestTimeout)
        // More bytes of the same head do not restart the header timer: trickling cannot
        // keep a connection alive.
        #expect(state.bytesRead() == .none)
        #expect(state.progress(.requestHeadReceived(expectsBody: true)) == .arm(.seconds(30)))
        #expect(state.bytesRead() == .arm(.seconds(30)))
        #expect(state.progress(.requestBodyComplete) == .cancel)
        #expect(state.phase == .busy)
        #expect(state.progress(.responseComplete) == .arm(.seconds(60)))
        #expect(state.phase == .idle)
    }

    @Test func headWithoutBodyIsBusyAtOnce() {
        var state = makeState()
        _ = state.connectionStarted()
        _ = state.bytesRead()
        #expect(state.progress(.requestHeadReceived(expectsBody: false)) == .cancel)
        #expect(state.bytesRead() == .none)
        #expect(state.expired() == .closeSilently)
    }

    @Test func drainingIgnoresEverything() {
        var state = makeState()
        _ = state.connectionStarted()
        #expect(state.progress(.closeAfterDraining) == .arm(ConnectionGuardState.drainTime))
        #expect(state.bytesRead() == .none)
        #expect(state.expired() == .closeSilently)
    }

    @Test func requestLineAndHeadBudgets() {
        var state = makeState()
        _ = state.connectionStarted()
        _ = state.bytesRead()
        #expect(!state.requestLineOverflows(adding: 100, sawLineEnd: false))
        #expect(state.requestLineOverflows(adding: 101, sawLineEnd: false))
        // Once a line end was seen the request line is complete; only the head budget counts.
        #expect(state.headProgress(bytes: 50, sawLineEnd: true) == .withinLimits)
        #expect(!state.requestLineOverflows(adding: 500, sawLineEnd: false))
        #expect(state.headProgress(bytes: 900, sawLineEnd: false) == .withinLimits)
        #expect(state.headProgress(bytes: 51, sawLineEnd: false) == .headTooLarge)
    }

    @Test func budgetsResetForTheNextRequest() {
        var state = makeState()
        _ = state.connectionStarted()
        _ = state.bytesRead()
        #expect(state.headProgress(bytes: 99, sawLineEnd: false) == .withinLimits)
        _ = state.progress(.requestHeadReceived(expectsBody: false))
        // Not reading a head: nothing counts.
        #expect(state.headProgress(bytes: 5000, sawLineEnd: false) == .withinLimits)
        _ = state.progress(.responseComplete)
        _ = state.bytesRead()
        #expect(state.headProgress(bytes: 99, sawLineEnd: false) == .withinLimits)
    }
}
