import BerthProcess
import Testing

/// Debouncing: a burst ends after a quiet spell, or at the latest a bounded time after it began.
@Suite("Change bursts")
struct ChangeBurstTests {
    @Test func aBurstEndsWhenQuietAndHandsOutEachChangeOnce() {
        var burst = ChangeBurst<String>(quiet: 0.25, longest: 2)
        #expect(burst.due(at: 100) == nil, "nothing recorded")
        #expect(burst.record("a", at: 10) == 10.25)
        #expect(burst.record("b", at: 10.1) == 10.35)
        #expect(burst.record("a", at: 10.2) == 10.45)
        #expect(burst.due(at: 10.3) == nil, "not quiet yet")
        #expect(burst.due(at: 10.45) == ["a", "b"])
        #expect(burst.isEmpty && burst.due(at: 20) == nil, "a new burst starts empty")
    }

    @Test func changesThatNeverPauseAreHandedOutAfterTheLongestWait() {
        var burst = ChangeBurst<Int>(quiet: 0.25, longest: 2)
        var deadline = 0.0
        for step in 0..<30 { deadline = burst.record(step % 3, at: Double(step) * 0.1) }
        #expect(deadline == 2)
        #expect(burst.due(at: 2) == [0, 1, 2])
    }
}
