#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// How long an app request's first step (what its task does before it first suspends, all of
/// it for most handlers) held the event loop that started it.
///
/// A request answered on the thread that read it costs no thread switch. But a handler that
/// computes for milliseconds, or blocks, would stall every other connection of that loop. So a
/// step that held the loop too long counts against its route, and a route with enough of them
/// runs its handler on the shared pool from then on (see the app API's `RouteWeight`); time
/// that no route can take (middleware, an app's own `respond(to:)`) counts against the app.
///
/// A step counts only for time it really held the thread. With more threads than cores, or on
/// a virtual machine, any step can see milliseconds of wall time pass while its thread did not
/// run. Reading the thread's CPU clock is a system call, too dear for every step; the wall clock
/// is not. So each step reads the wall clock before and after; the CPU clock is read as a
/// baseline at most once a millisecond, and again after a step whose wall time was long. The CPU
/// spent since the baseline, less the wall time between the baseline and the step's start, is a
/// lower bound of the step's own CPU (the thread cannot have spent more CPU than wall time
/// before the step). A step held the loop when that bound passes ``cpuLimit``, or when its wall
/// time passes ``wallLimit``, which preemption hardly reaches but a handler that blocks does.
struct StepHold {
    /// CPU time a step may hold the loop.
    static let cpuLimit: UInt64 = 2_000_000
    /// Wall time a step may hold the loop, whatever it did meanwhile.
    static let wallLimit: UInt64 = 20_000_000
    /// How old the CPU baseline may be when a step starts.
    static let baselineAge: UInt64 = 1_000_000

    private(set) var baselineWall: UInt64 = 0
    private(set) var baselineCPU: UInt64 = 0

    /// A step starts at `wall`: renews the baseline when it is too old. `cpu` reads the
    /// thread's CPU clock.
    mutating func stepStarts(wall: UInt64, cpu: () -> UInt64) {
        if self.baselineWall == 0 || wall &- self.baselineWall > Self.baselineAge {
            self.baselineWall = wall
            self.baselineCPU = cpu()
        }
    }

    /// How long the step from `start` to `end` (wall clock) held the thread, when too long;
    /// nil when it did not, or when it only seemed to because the thread was preempted.
    func heldTooLong(start: UInt64, end: UInt64, cpu: () -> UInt64) -> UInt64? {
        let wall = end &- start
        guard wall > Self.cpuLimit else { return nil }
        if wall > Self.wallLimit { return wall }
        let spent = cpu() &- self.baselineCPU
        let before = start &- self.baselineWall
        guard spent > before, spent - before > Self.cpuLimit else { return nil }
        return spent - before
    }
}

/// The ``StepHold`` of one event-loop thread, with its clocks (`LoopLocals.stepClock`). Only
/// that thread uses it.
final class StepClock: @unchecked Sendable {
    private var hold = StepHold()

    /// Call before a step runs; returns the step's start for ``heldTooLong(since:)``.
    /// `wall`: the event loops' clock read just before, when the caller has it.
    func stepStarts(at wall: UInt64? = nil) -> UInt64 {
        let now = wall ?? Self.wallNow()
        self.hold.stepStarts(wall: now, cpu: Self.threadCPUNow)
        return now
    }

    /// Call after the step ran: how long it held the thread, when too long.
    func heldTooLong(since start: UInt64) -> UInt64? {
        self.hold.heldTooLong(start: start, end: Self.wallNow(), cpu: Self.threadCPUNow)
    }

    /// The event loops' own clock.
    private static func wallNow() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }

    private static func threadCPUNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
