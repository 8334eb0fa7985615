import Testing

@testable import BerthServer

@Suite("The rules of one exchange, without I/O")
struct ExchangeStateTests {
    func state(body: Bool = false, expectsContinue: Bool = false, head: Bool = false, keepAlive: Bool = true, limit: Int = 100) -> ExchangeState {
        ExchangeState(expectsBody: body, expectsContinue: expectsContinue, isHead: head, keepAlive: keepAlive, bodyLimit: limit)
    }

    @Test func oneAnswerPerRequest() {
        var state = state()
        #expect(state.answer() == .write(withBody: true))
        #expect(state.answer() == .drop)
        #expect(state.answer(overriding: true) == .drop)
        #expect(state.responseWritten() == .complete)
        #expect(state.answer() == .drop)
    }

    @Test func headGetsTheFieldsButNoBody() {
        var state = state(head: true)
        #expect(state.answer() == .write(withBody: false))
    }

    @Test func anAnswerWaitsForTheBodyItDoesNotRead() {
        var state = state(body: true)
        #expect(state.answer() == .waitForBodyEnd)
        #expect(state.bodyReceived(10) == .discard)
        #expect(state.bodyEnded() == .writeDeferredAnswer)
        state.deferredAnswerWritten()
        #expect(state.answer == .writing)
        #expect(state.responseWritten() == .complete)
    }

    @Test func aRefusalReplacesTheAnswerThatWaited() {
        var state = state(body: true)
        #expect(state.answer() == .waitForBodyEnd)
        #expect(state.bodyReceived(101) == .refuseTooLarge)
        #expect(state.answer(overriding: true) == .write(withBody: true))
        #expect(!state.keepAlive)
        #expect(state.responseWritten() == .close)
    }

    @Test func aBodyReaderGetsTheBodyAndContinueWhenAsked() {
        var waiting = state(body: true, expectsContinue: true)
        #expect(waiting.handlerWantsBody() == .sendContinue)
        #expect(waiting.bodyReceived(50) == .deliver)
        #expect(waiting.bodyReceived(50) == .deliver)
        #expect(waiting.bodyEnded() == .none)
        #expect(waiting.answer() == .write(withBody: true))
        #expect(waiting.responseWritten() == .complete)

        // Once some body arrived, nothing is left to continue.
        var started = state(body: true, expectsContinue: true)
        #expect(started.bodyReceived(1) == .discard)
        #expect(started.handlerWantsBody() == .none)
    }

    @Test func bodyLimitMidStream() {
        var state = state(body: true, limit: 100)
        _ = state.handlerWantsBody()
        #expect(state.bodyReceived(60) == .deliver)
        #expect(state.bodyReceived(60) == .refuseTooLarge)
        #expect(state.requestBody == .abandoned)
        #expect(!state.keepAlive)
        // Nothing more is read once the body was abandoned.
        #expect(state.bodyReceived(1) == .discard)

        // An answer already on its way cannot become a 413: the exchange is cut off.
        var answered = self.state(body: true, limit: 100)
        _ = answered.handlerWantsBody()
        #expect(answered.bodyReceived(10) == .deliver)
        #expect(answered.answer() == .write(withBody: true))
        #expect(answered.bodyReceived(200) == .cutOff)
    }

    @Test func answeringWithoutTheAnnouncedBodyEndsTheConnection() {
        // RFC 9110 §10.1.1: the client waits for 100 Continue and may never send its body.
        var state = state(body: true, expectsContinue: true)
        #expect(state.answer() == .write(withBody: true))
        #expect(!state.keepAlive)
        #expect(state.responseWritten() == .close)
    }

    @Test func anAnsweredRequestWithItsBodyStillComing() {
        var state = state(body: true)
        _ = state.handlerWantsBody()
        #expect(state.answer() == .write(withBody: true))
        #expect(state.bodyReceived(5) == .discard)
        #expect(state.responseWritten() == .completeWithBodyArriving)
        #expect(state.bodyEnded() == .none)
    }

    @Test func keepAliveAndStopping() {
        var closing = state(keepAlive: false)
        #expect(closing.answer() == .write(withBody: true))
        #expect(closing.responseWritten() == .close)

        var stopping = state()
        stopping.endsConnection()
        #expect(stopping.answer() == .write(withBody: true))
        #expect(stopping.responseWritten() == .close)

        var failed = state(body: true)
        failed.bodyFailed()
        #expect(failed.answer() == .write(withBody: true))
        #expect(failed.responseWritten() == .close)
    }
}
