import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@testable import BerthServer

@Suite("Tasks started on the calling thread")
struct ImmediateTaskTests {
    @TaskLocal static var requestID: String?

    /// What a task saw, read by the test after it.
    final class Record: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func runsHereUntilItSuspendsThenFinishes() async {
        let record = Record()
        let caller = Self.currentThread()
        let task = startImmediately {
            record.add(Self.currentThread() == caller ? "started here" : "started elsewhere")
            await Task.yield()
            record.add("resumed")
        }
        // The first step ran before `startImmediately` returned, on this thread.
        #expect(record.all == ["started here"])
        await task.value
        #expect(record.all == ["started here", "resumed"])
    }

    @Test func carriesTaskLocalsAndCancellation() async {
        let record = Record()
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let task = Self.$requestID.withValue("r-1") {
            startImmediately {
                for await _ in gate { break }
                record.add("request \(Self.requestID ?? "none"), cancelled: \(Task.isCancelled)")
            }
        }
        task.cancel()
        open.yield()
        open.finish()
        await task.value
        #expect(record.all == ["request r-1, cancelled: true"])
    }

    private static func currentThread() -> UInt {
        UInt(pthread_self())
    }
}
