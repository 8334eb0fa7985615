import BerthMetrics
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the master counts itself, next to the request counters its workers report.
///
/// Workers keep their request counters per event loop thread and send the sums to the master
/// every second (see `WorkerReport.metrics`); the master adds them up. Counters therefore
/// survive reloads and worker restarts: when a worker exits, its last report moves into
/// `retired`, so totals never go backwards (a crashed worker loses at most its last second).
struct MasterMetrics {
    var retired = RequestMetricsSnapshot()
    var workerRestarts = 0
    var reloadsSucceeded = 0
    var reloadsFailed = 0
    var lastReloadSucceeded: Bool?
    var lastReloadTime: Double?

    mutating func reloaded(succeeded: Bool) {
        if succeeded { self.reloadsSucceeded += 1 } else { self.reloadsFailed += 1 }
        self.lastReloadSucceeded = succeeded
        self.lastReloadTime = Date().timeIntervalSince1970
    }
}

/// What the admin endpoint shows about the workers at one moment.
struct WorkerCensus {
    var generation: Int
    var expected: Int
    var ready: Int
    var starting: Int
    var retiring: Int
    var openConnections: Int
    /// Connections still open in workers of older generations (a reload's drain).
    var drainingConnections = 0
    var openWebSockets = 0
}

/// The Prometheus text exposition format (version 0.0.4).
enum PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(requests: RequestMetricsSnapshot, master: MasterMetrics, census: WorkerCensus) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)], _ value: String) {
            if labels.isEmpty {
                out += "\(name) \(value)\n"
            } else {
                out += "\(name){" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "} \(value)\n"
            }
        }
        let series = requests.series.sorted {
            ($0.host, $0.route, $0.statusClass) < ($1.host, $1.route, $1.statusClass)
        }
        func labels(_ s: RequestMetricsSnapshot.Series) -> [(String, String)] {
            [("host", s.host), ("route", s.route), ("status", "\(s.statusClass)xx")]
        }

        family("berth_http_requests_total", "counter", "Requests answered, by host, matched route prefix and status class.")
        for s in series { sample("berth_http_requests_total", labels(s), "\(s.requests)") }
        family("berth_http_response_body_bytes_total", "counter", "Response body bytes sent, by host, matched route prefix and status class.")
        for s in series { sample("berth_http_response_body_bytes_total", labels(s), "\(s.bytes)") }

        // The histogram is by host and route: the status class would multiply its series.
        family("berth_http_request_duration_seconds", "histogram",
               "Time from a request's head to its whole response handed to the socket, by host and matched route prefix.")
        var byRoute: [String: (host: String, route: String, buckets: [Int], sum: Int, count: Int)] = [:]
        var order: [String] = []
        for s in series {
            let key = "\(s.host)\n\(s.route)"
            if byRoute[key] == nil {
                byRoute[key] = (s.host, s.route, Array(repeating: 0, count: RequestMetricsSnapshot.latencyBuckets.count + 1), 0, 0)
                order.append(key)
            }
            for (i, count) in s.buckets.enumerated() where i < byRoute[key]!.buckets.count { byRoute[key]!.buckets[i] += count }
            byRoute[key]!.sum += s.latencyNanoseconds
            byRoute[key]!.count += s.requests
        }
        for key in order {
            let h = byRoute[key]!
            var cumulative = 0
            for (i, bound) in RequestMetricsSnapshot.latencyBuckets.enumerated() {
                cumulative += h.buckets[i]
                sample("berth_http_request_duration_seconds_bucket", [("host", h.host), ("route", h.route), ("le", number(bound))], "\(cumulative)")
            }
            sample("berth_http_request_duration_seconds_bucket", [("host", h.host), ("route", h.route), ("le", "+Inf")], "\(h.count)")
            sample("berth_http_request_duration_seconds_sum", [("host", h.host), ("route", h.route)], number(Double(h.sum) / 1e9))
            sample("berth_http_request_duration_seconds_count", [("host", h.host), ("route", h.route)], "\(h.count)")
        }

        family("berth_http_open_connections", "gauge", "Client connections open in the workers.")
        sample("berth_http_open_connections", [], "\(census.openConnections)")
        family("berth_draining_connections", "gauge",
               "Client connections still open in workers of older generations after a reload (WebSockets stay up to websocket_drain).")
        sample("berth_draining_connections", [], "\(census.drainingConnections)")
        family("berth_websocket_open_connections", "gauge", "WebSocket connections open in the workers, older generations' included.")
        sample("berth_websocket_open_connections", [], "\(census.openWebSockets)")
        family("berth_workers", "gauge", "Worker processes, by state: ready and starting ones of the serving generation, retiring ones of older generations.")
        sample("berth_workers", [("state", "ready")], "\(census.ready)")
        sample("berth_workers", [("state", "starting")], "\(census.starting)")
        sample("berth_workers", [("state", "retiring")], "\(census.retiring)")
        family("berth_workers_configured", "gauge", "Workers the serving generation runs when at full strength.")
        sample("berth_workers_configured", [], "\(census.expected)")
        family("berth_worker_restarts_total", "counter", "Workers started to replace one that exited or crashed.")
        sample("berth_worker_restarts_total", [], "\(master.workerRestarts)")
        family("berth_config_generation", "gauge", "The configuration generation being served: 1 at start, one more per successful reload.")
        sample("berth_config_generation", [], "\(census.generation)")
        family("berth_config_reloads_total", "counter", "Reloads, by outcome.")
        sample("berth_config_reloads_total", [("outcome", "success")], "\(master.reloadsSucceeded)")
        sample("berth_config_reloads_total", [("outcome", "failure")], "\(master.reloadsFailed)")
        if let succeeded = master.lastReloadSucceeded, let time = master.lastReloadTime {
            family("berth_config_last_reload_success", "gauge", "1 if the last reload put a new generation into service, 0 if it was refused or failed.")
            sample("berth_config_last_reload_success", [], succeeded ? "1" : "0")
            family("berth_config_last_reload_timestamp_seconds", "gauge", "When the last reload finished, in seconds since the Unix epoch.")
            sample("berth_config_last_reload_timestamp_seconds", [], number(time))
        }
        return out
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
