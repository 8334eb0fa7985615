import BerthConfig
import Dispatch
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging

/// The admin endpoint (`admin:`): `/metrics` and `/health`, answered from the master's state.
extension Master {
    /// Binds the endpoint `config` names, or closes it; unchanged, it stays as it is.
    func updateAdmin(_ config: AdminConfig?) throws {
        if self.admin?.config.address == config?.address && self.admin?.config.port == config?.port { return }
        guard let config else {
            self.admin?.server.stop()
            self.admin = nil
            return
        }
        let respond: AdminServer.Responder = { path in
            await withCheckedContinuation { continuation in
                self.queue.async { continuation.resume(returning: self.adminReply(path)) }
            }
        }
        let server: AdminServer
        do {
            server = try AdminServer(address: config.address, port: config.port, respond: respond)
        } catch {
            // The old endpoint may hold the port (only the address changed): free it, retry once.
            guard let old = self.admin else { throw AdminError(config: config, underlying: error) }
            old.server.stop()
            self.admin = nil
            do {
                server = try AdminServer(address: config.address, port: config.port, respond: respond)
            } catch {
                throw AdminError(config: config, underlying: error)
            }
        }
        self.admin?.server.stop()
        self.admin = (config, server)
        self.logger.notice("admin endpoint ready", metadata: ["admin.endpoint": "\(config.address.contains(":") ? "[\(config.address)]" : config.address):\(server.port)"])
    }

    func adminReply(_ path: String) -> AdminServer.Reply {
        let census = self.census()
        switch path {
        case "/metrics":
            var requests = self.metrics.retired
            for worker in self.liveWorkers { if let report = worker.report { requests.merge(report.requests) } }
            return AdminServer.Reply(
                status: 200, contentType: PrometheusText.contentType,
                body: PrometheusText.render(requests: requests, master: self.metrics, census: census)
                    + self.certificateMetricsText())
        case "/health":
            let summary = "generation=\(census.generation) workers=\(census.ready)/\(census.expected)\n"
            if self.stopMode != nil { return AdminServer.Reply(status: 503, body: "stopping " + summary) }
            guard census.ready > 0 else { return AdminServer.Reply(status: 503, body: "starting " + summary) }
            return AdminServer.Reply(status: 200, body: "ready " + summary)
        default:
            return AdminServer.Reply(status: 404, body: "not found; try /metrics or /health\n")
        }
    }

    func census() -> WorkerCensus {
        let currentWorkers = self.current?.liveWorkers ?? []
        let ready = currentWorkers.filter(\.isReady).count
        let leaving = self.leaving.flatMap(\.liveWorkers).count
        return WorkerCensus(
            generation: self.current?.number ?? 0,
            expected: self.current?.slots.count ?? 0,
            ready: ready,
            starting: currentWorkers.count - ready + (self.starting?.liveWorkers.count ?? 0),
            retiring: leaving,
            openConnections: self.liveWorkers.reduce(0) { $0 + ($1.report?.openConnections ?? 0) },
            drainingConnections: self.leaving.flatMap(\.liveWorkers).reduce(0) { $0 + ($1.report?.openConnections ?? 0) },
            openWebSockets: self.liveWorkers.reduce(0) { $0 + ($1.report?.openWebSockets ?? 0) })
    }
}
