/// Counter values at one moment, summed over threads (and, in the master, over workers).
public struct RequestMetricsSnapshot: Codable, Sendable, Equatable {
    public struct Series: Codable, Sendable, Equatable {
        /// The matched host's configured name, or "-" when no host matched.
        public var host: String
        /// The matched route's configured prefix, or "-".
        public var route: String
        /// 1 to 5, for 1xx to 5xx.
        public var statusClass: Int
        public var requests: Int
        /// Response body bytes.
        public var bytes: Int
        public var latencyNanoseconds: Int
        /// One count per bound of `latencyBuckets`, then +Inf; not cumulative.
        public var buckets: [Int]

        public init(host: String, route: String, statusClass: Int, requests: Int, bytes: Int,
                    latencyNanoseconds: Int, buckets: [Int]) {
            self.host = host
            self.route = route
            self.statusClass = statusClass
            self.requests = requests
            self.bytes = bytes
            self.latencyNanoseconds = latencyNanoseconds
            self.buckets = buckets
        }

        /// Host names and prefixes cannot contain a newline, so this separates them safely.
        var identity: String { "\(self.host)\n\(self.route)\n\(self.statusClass)" }
    }

    public var series: [Series] = []

    /// Upper bounds, in seconds, of the latency histogram's buckets (Prometheus' habit).
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init() {}

    /// Adds `other`'s counts, series by series.
    public mutating func merge(_ other: RequestMetricsSnapshot) {
        guard !other.series.isEmpty else { return }
        var index: [String: Int] = [:]
        for (at, series) in self.series.enumerated() { index[series.identity] = at }
        for incoming in other.series {
            guard let at = index[incoming.identity] else {
                index[incoming.identity] = self.series.count
                self.series.append(incoming)
                continue
            }
            self.series[at].requests += incoming.requests
            self.series[at].bytes += incoming.bytes
            self.series[at].latencyNanoseconds += incoming.latencyNanoseconds
            for (i, count) in incoming.buckets.enumerated() where i < self.series[at].buckets.count {
                self.series[at].buckets[i] += count
            }
        }
    }
}
