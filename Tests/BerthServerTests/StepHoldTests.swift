@_spi(BerthServer) import BerthApp
@testable import BerthServer
import Testing

/// The readings that tell an app step that held its event loop from one that was only
/// preempted, and the share of long steps that makes a route heavy. Times in nanoseconds.
@Suite struct StepHoldTests {
    private static let ms: UInt64 = 1_000_000

    @Test func aStepThatComputedFor50msHeldTheLoop() {
        var hold = StepHold()
        hold.stepStarts(wall: 100 * Self.ms, cpu: { 7 * Self.ms })
        let held = hold.heldTooLong(start: 100 * Self.ms, end: 150 * Self.ms, cpu: { 57 * Self.ms })
        #expect(held == 50 * Self.ms)
    }

    @Test func aStepStretchedByPreemptionDidNot() {
        var hold = StepHold()
        hold.stepStarts(wall: 100 * Self.ms, cpu: { 7 * Self.ms })
        // 8 ms of wall time, of which the thread ran 0.1 ms.
        #expect(hold.heldTooLong(start: 100 * Self.ms, end: 108 * Self.ms, cpu: { 7 * Self.ms + 100_000 }) == nil)
    }

    @Test func aQuickStepIsNotEvenMeasuredAgainstTheCPUClock() {
        var hold = StepHold()
        hold.stepStarts(wall: 100 * Self.ms, cpu: { 7 * Self.ms })
        let held = hold.heldTooLong(start: 100 * Self.ms, end: 100 * Self.ms + 50_000, cpu: {
            Issue.record("the CPU clock was read for a quick step")
            return 0
        })
        #expect(held == nil)
    }

    @Test func aStepThatBlockedLongerThanTheWallLimitHeldTheLoop() {
        var hold = StepHold()
        hold.stepStarts(wall: 100 * Self.ms, cpu: { 7 * Self.ms })
        // Asleep (no CPU) for 30 ms: blocking holds the loop as computing does.
        #expect(hold.heldTooLong(start: 100 * Self.ms, end: 130 * Self.ms, cpu: { 7 * Self.ms }) == 30 * Self.ms)
    }

    @Test func theBaselineIsRenewedOnlyWhenOlderThanAMillisecond() {
        var hold = StepHold()
        var reads = 0
        let cpu: () -> UInt64 = { reads += 1; return 5 * Self.ms }
        hold.stepStarts(wall: 100 * Self.ms, cpu: cpu)
        hold.stepStarts(wall: 100 * Self.ms + 400_000, cpu: cpu)
        hold.stepStarts(wall: 100 * Self.ms + 900_000, cpu: cpu)
        #expect(reads == 1)
        hold.stepStarts(wall: 102 * Self.ms, cpu: cpu)
        #expect(reads == 2)
        #expect(hold.baselineWall == 102 * Self.ms)
    }

    /// CPU the thread spent between the baseline and the step's start is not put on the step:
    /// at most the wall time between them is taken off.
    @Test func cpuSpentBeforeTheStepIsNotPutOnIt() {
        var hold = StepHold()
        hold.stepStarts(wall: 100 * Self.ms, cpu: { 10 * Self.ms })
        // Starts 0.9 ms after the baseline (busy meanwhile), runs 2.5 ms of wall time and
        // 1.5 ms of CPU: under the limit, although the thread spent 2.4 ms since the baseline.
        let start = 100 * Self.ms + 900_000
        let end = start + 2_500_000
        #expect(hold.heldTooLong(start: start, end: end, cpu: { 12 * Self.ms + 400_000 }) == nil)
    }

    @Test func aFewLongStepsAmongManyRequestsDoNotMakeARouteHeavy() {
        let weight = RouteWeight()
        weight.countRequest()
        weight.countRequest()
        #expect(!weight.countLongStep() && !weight.countLongStep())
        weight.countRequest()
        // The third long step of three requests: heavy, once.
        #expect(weight.countLongStep() && weight.isHeavy)
        #expect(!weight.countLongStep())

        let busy = RouteWeight()
        for _ in 0..<301 { busy.countRequest() }
        // Three long steps in 301 requests are under one in a hundred.
        #expect(!busy.countLongStep() && !busy.countLongStep() && !busy.countLongStep() && !busy.isHeavy)
        // A fourth is not.
        #expect(busy.countLongStep() && busy.isHeavy)
    }
}
