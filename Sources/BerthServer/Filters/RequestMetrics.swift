import BerthMetrics
import NIOCore
import NIOPosix
import Synchronization

/// Request counters of one server: requests, body bytes and latency by host, matched route
/// prefix and status class.
///
/// The request path is benchmarked, so recording takes no lock and allocates nothing once a
/// label set was seen: every event loop thread writes only a table of its own, and a
/// snapshot reads each table on its own loop. Labels are the host's configured name and the
/// route's configured prefix, never the raw URI, so the number of series stays bounded.
public final class RequestMetrics: Sendable {
    private let perThread = ThreadSpecificVariable<LoopCounters>()
    private let tables = Mutex<[(loop: EventLoop?, counters: LoopCounters)]>([])

    public init() {}

    /// The calling thread's table; made on the first request a thread answers.
    func counters() -> LoopCounters {
        self.perThread.currentOrMake {
            let counters = LoopCounters()
            let loop = MultiThreadedEventLoopGroup.currentEventLoop
            self.tables.withLock { $0.append((loop, counters)) }
            return counters
        }
    }

    /// Everything recorded so far, summed over the threads. Each table is read on the event
    /// loop that writes it; call while the server runs.
    public func snapshot() async -> RequestMetricsSnapshot {
        let tables = self.tables.withLock { $0 }
        var total = RequestMetricsSnapshot()
        for (loop, counters) in tables {
            if let loop, let copy = try? await loop.submit({ counters.snapshot() }).get() {
                total.merge(copy)
            } else {
                total.merge(counters.snapshot())
            }
        }
        return total
    }

    /// The final counts, once the server has stopped: its threads are gone, so nobody writes
    /// the tables any more and they are read directly.
    public func finalSnapshot() -> RequestMetricsSnapshot {
        var total = RequestMetricsSnapshot()
        for (_, counters) in self.tables.withLock({ $0 }) { total.merge(counters.snapshot()) }
        return total
    }
}

/// The counters of one event loop thread. Only that thread touches it (see `RequestMetrics`).
final class LoopCounters: @unchecked Sendable {
    private struct Key: Hashable {
        var host: String
        var route: String
        var statusClass: Int
    }

    /// Bucket bounds in nanoseconds, for comparing without converting each measurement.
    private static let bounds: [Int64] = RequestMetricsSnapshot.latencyBuckets.map { Int64($0 * 1e9) }
    /// Per series: requests, bytes, latency sum (ns), then one count per bucket and +Inf.
    private static let stride = 3 + bounds.count + 1

    private var index: [Key: Int] = [:]
    private var keys: [Key] = []
    private var values: [Int] = []
    /// The series of the previous request: a site under load sees the same host and route
    /// again and again, and comparing strings that share storage costs less than hashing.
    private var last: (key: Key, slot: Int)?

    func record(host: String, route: String, status: Int, bytes: Int64, duration: TimeAmount) {
        // NIO's clock: plain nanoseconds, where `Duration` would take 128-bit arithmetic.
        let nanoseconds = Int(duration.nanoseconds)
        let key = Key(host: host, route: route, statusClass: status / 100)
        let slot: Int
        if let last = self.last, last.key == key {
            slot = last.slot
        } else if let known = self.index[key] {
            slot = known
            self.last = (key, known)
        } else {
            slot = self.keys.count
            self.index[key] = slot
            self.keys.append(key)
            self.values.append(contentsOf: repeatElement(0, count: Self.stride))
            self.last = (key, slot)
        }
        var bucket = 0
        while bucket < Self.bounds.count && nanoseconds > Self.bounds[bucket] { bucket += 1 }
        let base = slot * Self.stride
        self.values.withUnsafeMutableBufferPointer { values in
            values[base] &+= 1
            values[base + 1] &+= Int(bytes)
            values[base + 2] &+= Int(nanoseconds)
            values[base + 3 + bucket] &+= 1
        }
    }

    func snapshot() -> RequestMetricsSnapshot {
        var snapshot = RequestMetricsSnapshot()
        for (slot, key) in self.keys.enumerated() {
            let base = slot * Self.stride
            snapshot.series.append(RequestMetricsSnapshot.Series(
                host: key.host, route: key.route, statusClass: key.statusClass,
                requests: self.values[base], bytes: self.values[base + 1], latencyNanoseconds: self.values[base + 2],
                buckets: Array(self.values[(base + 3)..<(base + Self.stride)])))
        }
        return snapshot
    }
}
