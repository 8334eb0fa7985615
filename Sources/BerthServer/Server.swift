import BerthConfig
import BerthStatic
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The serving half of Berth: binds the configured listeners and answers HTTP on them with
/// the hosts of one configuration generation.
public final class Server: Sendable {
    /// A listening socket, with the port the kernel chose when the file said `port: 0`.
    public struct BoundListener: Sendable, CustomStringConvertible {
        public var address: String
        public var port: Int
        /// A `tls` listener: HTTPS, with HTTP/2 where ALPN chooses it.
        public var isSecure = false
        public var description: String {
            let scheme = self.isSecure ? "https" : "http"
            return address.contains(":") ? "\(scheme)://[\(address)]:\(port)" : "\(scheme)://\(address):\(port)"
        }
    }

    private let config: ServerConfig
    private let group: MultiThreadedEventLoopGroup
    private let generation: SiteGeneration
    private let registry: ConnectionRegistry
    /// Sockets inherited from the master (`start(inheriting:)`).
    private let sharedListeners = Mutex<[SharedListener]>([])
    private let logger: Logger
    /// One set of TLS contexts per kind of `tls` listener, built with the generation and
    /// replaced when a managed host's certificate changes.
    private let tlsContexts: [TLSContexts.Profile: LiveTLSContexts]
    private let httpsPort: HTTPSPort
    /// The certificates of the hosts' `tls:` files, read once per generation.
    private let fileCertificates: [HostCertificate]
    /// `tls: auto` and `tls: internal` hosts, nil when there are none.
    private let managedCertificates: ManagedCertificates?
    private let certificateWatch = Mutex<Task<Void, Never>?>(nil)

    /// Builds everything a request needs (static roots opened, error pages read, logs
    /// opened) before any socket is bound, so a bad generation never half-starts.
    /// `unbuiltApps`: apps whose build failed under `berth dev`, with the compiler's output;
    /// their routes answer 503 with it.
    public init(config: ServerConfig, apps: [String: AppEndpoint] = [:], unbuiltApps: [String: String] = [:], logger: Logger) throws {
        self.config = config
        self.logger = logger
        var builder = SiteGenerationBuilder(config: config, apps: apps, unbuiltApps: unbuiltApps, logger: logger)
        let httpsPort = HTTPSPort(config.listeners)
        builder.httpsPort = httpsPort
        let registry = ConnectionRegistry(maxConnections: config.limits.maxConnections)
        builder.connections = registry
        self.generation = try builder.build()
        self.httpsPort = httpsPort
        let report = try Self.checkCertificateFiles(config: config)
        for warning in report.warnings { logger.warning("\(warning)") }
        let managed = ManagedCertificates(config: config, logger: logger)
        self.fileCertificates = report.certificates
        self.managedCertificates = managed
        self.tlsContexts = try Self.makeTLSContexts(config: config, certificates: report.certificates + (managed?.scan().certificates ?? []))
        self.registry = registry
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: config.threads ?? System.coreCount)
    }

    /// Everything `init` checks, without starting threads: for `berth check`. Returns the
    /// findings that do not prevent serving (a certificate close to expiry). Managed hosts'
    /// certificates are issued at run time and not looked at.
    @discardableResult
    public static func check(config: ServerConfig, logger: Logger) throws -> [String] {
        // Apps are checked by their own probe; routes to them are taken on trust here.
        var builder = SiteGenerationBuilder(config: config, apps: nil, logger: logger)
        _ = try builder.build()
        let report = try Self.checkCertificateFiles(config: config)
        if !report.certificates.isEmpty || !config.hosts.contains(where: { $0.managedTLS != nil }) {
            _ = try Self.makeTLSContexts(config: config, certificates: report.certificates)
        }
        return report.warnings
    }

    /// Checks every host's certificate files (even with no `tls` listener: `berth check`
    /// validates everything).
    private static func checkCertificateFiles(config: ServerConfig) throws -> CertificateCheck.Report {
        let report = CertificateCheck.check(config.hosts)
        if !report.errors.isEmpty { throw SiteError(message: report.errors.joined(separator: "\n")) }
        return report
    }

    /// The contexts the `tls` listeners need, one set per profile.
    private static func makeTLSContexts(config: ServerConfig, certificates: [HostCertificate]) throws -> [TLSContexts.Profile: LiveTLSContexts] {
        var contexts: [TLSContexts.Profile: LiveTLSContexts] = [:]
        for listener in config.listeners where listener.tls {
            let profile = TLSContexts.Profile(listener)
            guard contexts[profile] == nil else { continue }
            guard !certificates.isEmpty else {
                let managed = config.hosts.contains { $0.managedTLS != nil }
                    ? " yet (the managed hosts' certificates and placeholders are missing from "
                        + "'\(config.managedTLSStorage)'; is berth-acme running?)" : ""
                throw SiteError(message: "\(listener.location): listener is marked tls but no host has a certificate\(managed)")
            }
            do {
                contexts[profile] = LiveTLSContexts(try TLSContexts(certificates: certificates, profile: profile))
            } catch {
                throw SiteError(message: "\(listener.location): cannot set up TLS: \(error)")
            }
        }
        return contexts
    }

    /// How often workers look for a managed host's new certificate on disk.
    static let certificateScanInterval: Duration = .seconds(1)

    /// Swaps managed hosts' new certificates into the TLS contexts as the coordinator stores
    /// them, until the server stops.
    private func watchManagedCertificates() {
        guard let managed = self.managedCertificates, !self.tlsContexts.isEmpty else { return }
        let (files, contexts, logger) = (self.fileCertificates, self.tlsContexts, self.logger)
        let task = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.certificateScanInterval)
                let (certificates, changed) = managed.scan()
                guard changed else { continue }
                for live in contexts.values {
                    do {
                        live.replace(with: try TLSContexts(certificates: files + certificates, profile: live.profile))
                    } catch {
                        logger.error("cannot put new certificates into service; the current ones keep serving",
                                     metadata: ["error": "\(error)"])
                    }
                }
            }
        }
        self.certificateWatch.withLock { $0 = task }
    }

    /// Serves on listening sockets another process bound: a worker takes over the sockets
    /// its master passed down, one per `config.listeners` entry, in file order. They are
    /// shared with other workers, so a `SharedListener` accepts on each, and every connection
    /// gets its listener's pipeline, TLS and HTTP/2 included.
    public func start(inheriting sockets: [CInt]) async throws -> [BoundListener] {
        precondition(sockets.count == self.config.listeners.count, "one socket per listener")
        var bound: [BoundListener] = []
        var accepting: [SharedListener] = []
        for (listener, socket) in zip(self.config.listeners, sockets) {
            // ClientBootstrap sets TCP_NODELAY by default.
            var bootstrap = ClientBootstrap(group: self.group)
                .channelOption(.maxMessagesPerRead, value: 8)
                .channelOption(.recvAllocator, value: Self.readBuffers)
            if let unsent = Self.unsentBytes(of: listener) {
                bootstrap = bootstrap.channelOption(TCPOptions.unsentBytes, value: unsent)
            }
            do {
                let shared = try SharedListener(socket: socket, bootstrap: bootstrap, initializer: self.connectionInitializer(for: listener))
                accepting.append(shared)
                bound.append(BoundListener(address: listener.address, port: SharedListener.localPort(of: socket) ?? listener.port, isSecure: listener.tls))
            } catch {
                for shared in accepting { shared.close() }
                throw ListenError(listener: listener, underlying: error)
            }
        }
        for shared in accepting { shared.start() }
        self.sharedListeners.withLock { $0 = accepting }
        if let https = bound.first(where: \.isSecure) { self.httpsPort.bound(https.port) }
        self.watchManagedCertificates()
        return bound
    }

    /// Read buffers start at 1 KiB, which holds a typical request head, and grow when reads
    /// fill them. Each connection keeps its last one for reuse, so the start size is also
    /// what an idle keep-alive connection holds (NIO's default is 2 KiB).
    static let readBuffers = AdaptiveRecvByteBufferAllocator(minimum: 256, initial: 1024, maximum: 64 * 1024)

    /// The listener's bound as the socket option takes it (a C int), nil to leave the kernel's.
    private static func unsentBytes(of listener: ListenerConfig) -> Int? {
        listener.unsentBytes.map { min($0, Int(CInt.max)) }
    }

    /// What every accepted connection of `listener` goes through: admission (the connection
    /// cap; a connection over it is refused), then TLS or plain HTTP/1.1.
    private func connectionInitializer(for listener: ListenerConfig) -> SharedListener.Initializer {
        let generation = self.generation
        let registry = self.registry
        if listener.tls {
            // `init` built contexts for the profile of every tls listener.
            let contexts = self.tlsContexts[TLSContexts.Profile(listener)]!
            return { channel, _ in
                guard registry.admit(channel) else { return Self.refuse(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try TLSPipeline.configure(channel: channel, contexts: contexts, generation: generation)
                }
            }
        }
        return { channel, socket in
            guard registry.admit(channel) else { return Self.refuse(channel) }
            return channel.eventLoop.makeCompletedFuture {
                try HTTP1Pipeline.configure(channel, generation: generation, isSecure: false, socket: socket)
            }
        }
    }

    /// A connection over the cap: not registered yet, so failing makes the bootstrap close it.
    private static func refuse(_ channel: Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
    }

    /// Stops taking new connections; open ones carry on. The first step of `stop`, on its own
    /// so a worker can tell its master when a newer generation has the sockets to itself.
    public func stopAccepting() async {
        let shared = self.sharedListeners.withLock { all in
            defer { all = [] }
            return all
        }
        for listener in shared { listener.close() }
    }

    /// Graceful stop: close the listeners, let every connection finish its in-flight
    /// response, and force-close whatever is left after `drainTimeout`. WebSocket connections
    /// are long-lived by nature: they stay until they close or `webSocketDrain` passes (at
    /// least `drainTimeout`), then get a close frame (1001) and a moment to answer it.
    public func stop(drainTimeout: Duration = .seconds(10), webSocketDrain: Duration = .zero) async {
        await self.drain(drainTimeout: drainTimeout, webSocketDrain: webSocketDrain)
        await self.shutdown()
    }

    /// The first part of `stop`: returns once no connection is left. The event loops still
    /// run, so the request counters can be read while it waits.
    public func drain(drainTimeout: Duration, webSocketDrain: Duration) async {
        self.certificateWatch.withLock { $0?.cancel() }
        await self.stopAccepting()
        // Connections accepted just before the listeners closed may still be on their way to
        // an event loop: the registry quiesces those too, and the wait covers them.
        let registry = self.registry
        registry.quiesce()
        let loop = self.group.next()
        let forceClose = loop.scheduleTask(in: TimeAmount(drainTimeout)) { registry.closeAll(keepingLongLived: true) }
        let goingAway = loop.scheduleTask(in: TimeAmount(max(drainTimeout, webSocketDrain))) { registry.sendGoingAway() }
        let lastClose = loop.scheduleTask(in: TimeAmount(max(drainTimeout, webSocketDrain)) + WebSocketConnection.closeReplyTime) {
            registry.closeAll(keepingLongLived: false)
        }
        await registry.drained()
        forceClose.cancel()
        goingAway.cancel()
        lastClose.cancel()
    }

    /// Asks the open WebSockets to close now (1001, going away) rather than when
    /// `webSocketDrain` passes, and closes what is left after a moment: a stop that arrives
    /// while a reload's drain keeps them open.
    public func closeWebSockets() {
        let registry = self.registry
        registry.sendGoingAway()
        _ = self.group.next().scheduleTask(in: WebSocketConnection.closeReplyTime) { registry.closeAll(keepingLongLived: false) }
    }

    /// The last part of `stop`: ends the event loops.
    public func shutdown() async {
        try? await self.group.shutdownGracefully()
    }

    /// The number of open client connections.
    public var openConnections: Int { self.registry.count }

    /// Open connections that switched to WebSocket.
    public var openWebSockets: Int { self.registry.longLivedCount }

    /// Request counters by host, route and status class (see `RequestMetrics`).
    public var requestMetrics: RequestMetrics { self.generation.metrics }

    /// Reopens log files (log rotation).
    public func reopenLogs() {
        for log in self.generation.allAccessLogs {
            do { try log.reopen() } catch { self.logger.error("cannot reopen access log", metadata: ["error": "\(error)"]) }
        }
    }
}

/// The HTTP/1.1 handlers of a connection: the same on a plain socket and behind TLS + ALPN.
enum HTTP1Pipeline {
    /// `position`: where the connection's handler goes (behind TLS, before the handler that
    /// reports its failures).
    /// `socket`: the connection's own socket, on a plain connection.
    static func configure(_ channel: Channel, generation: SiteGeneration, isSecure: Bool, socket: ConnectionSocket? = nil,
                          position: ChannelPipeline.SynchronousOperations.Position = .last) throws {
        try channel.pipeline.syncOperations.addHandler(
            HTTP1Connection(generation: generation, isSecure: isSecure, socket: socket, eventLoop: channel.eventLoop), position: position)
    }
}

extension TLSContexts.Profile {
    init(_ listener: ListenerConfig) {
        self.init(minimumVersion: listener.tlsMinimumVersion, http2: listener.http2)
    }
}

/// A listener that could not be bound, with the address the user wrote.
public struct ListenError: Error, CustomStringConvertible {
    public var listener: ListenerConfig
    public var underlying: Error
    public var description: String {
        "\(self.listener.location): cannot listen on \(self.listener.address):\(self.listener.port): \(self.underlying)"
    }
}
