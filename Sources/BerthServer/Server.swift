import BerthConfig
import BerthStatic
import Foundation
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
        public var description: String {
            address.contains(":") ? "http://[\(address)]:\(port)" : "http://\(address):\(port)"
        }
    }

    private let config: ServerConfig
    private let group: MultiThreadedEventLoopGroup
    private let generation: SiteGeneration
    private let registry: ConnectionRegistry
    private let listeners = Mutex<[Channel]>([])
    private let logger: Logger

    /// Builds everything a request needs (static roots opened, error pages read, logs
    /// opened) before any socket is bound, so a bad generation never half-starts.
    public init(config: ServerConfig, apps: [String: AppEndpoint] = [:], logger: Logger) throws {
        self.config = config
        self.logger = logger
        var builder = SiteGenerationBuilder(config: config, apps: apps, logger: logger)
        self.generation = try builder.build()
        self.registry = ConnectionRegistry(maxConnections: config.limits.maxConnections)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: config.threads ?? System.coreCount)
    }

    /// Everything `init` checks, without starting threads: for `berth check`.
    public static func check(config: ServerConfig, apps: [String: AppEndpoint] = [:], logger: Logger) throws {
        var builder = SiteGenerationBuilder(config: config, apps: apps, logger: logger)
        _ = try builder.build()
    }

    /// Binds every listener. Throws (and binds nothing) if any address is unavailable.
    public func start() async throws -> [BoundListener] {
        var bound: [BoundListener] = []
        var channels: [Channel] = []
        for listener in self.config.listeners {
            do {
                let channel = try await self.bootstrap().bind(host: listener.address, port: listener.port).get()
                channels.append(channel)
                bound.append(BoundListener(address: listener.address, port: channel.localAddress?.port ?? listener.port))
            } catch {
                for channel in channels { try? await channel.close() }
                throw ListenError(listener: listener, underlying: error)
            }
        }
        self.listeners.withLock { $0 = channels }
        return bound
    }

    private func bootstrap() -> ServerBootstrap {
        let generation = self.generation
        let registry = self.registry
        let limits = generation.limits
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = limits.headerBytes
        decoderLimits.maxHeaderListSize = limits.headerBytes
        decoderLimits.maxHeaderFieldCount = limits.headerCount
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 8)
            .childChannelInitializer { channel in
                guard registry.admit(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ConnectionGuardHandler(limits: limits))
                    try sync.configureHTTPServerPipeline(
                        withPipeliningAssistance: true,
                        withErrorHandling: false,
                        withOutboundHeaderValidation: true,
                        withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: decoderLimits
                    )
                    try sync.addHandler(ProtocolErrorHandler())
                    try sync.addHandler(HTTPRequestHandler(generation: generation))
                }
            }
    }

    /// Graceful stop: close the listeners, let every connection finish its in-flight
    /// response, and force-close whatever is left after `drainTimeout`.
    public func stop(drainTimeout: Duration = .seconds(10)) async {
        let listeners = self.listeners.withLock { channels in
            defer { channels = [] }
            return channels
        }
        for channel in listeners { try? await channel.close() }
        let open = self.registry.quiesce()
        let forceClose = self.group.next().scheduleTask(in: TimeAmount(drainTimeout)) {
            for channel in open { channel.close(promise: nil) }
        }
        for channel in open { try? await channel.closeFuture.get() }
        forceClose.cancel()
        try? await self.group.shutdownGracefully()
    }

    /// The number of open client connections.
    public var openConnections: Int { self.registry.count }

    /// Reopens log files (log rotation).
    public func reopenLogs() {
        for log in self.generation.allAccessLogs {
            do { try log.reopen() } catch { self.logger.error("cannot reopen access log", metadata: ["error": "\(error)"]) }
        }
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
