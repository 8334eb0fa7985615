import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTPS client ACME talks through: one connection per request over SwiftNIO and NIOSSL,
/// which the server already links, rather than AsyncHTTPClient.
///
/// An issuance is a dozen small requests and a renewal happens once in weeks, so pooling,
/// redirects, proxies and HTTP/2 would be code that never pays off; AsyncHTTPClient would add
/// about a dozen modules to build and map in the helper process for those. What ACME does need
/// is here: TLS with a trust store of the user's choice (RFC 8555 §6.1 requires HTTPS), a
/// deadline on every request, and a cap on what a misbehaving server can make us buffer.
public struct HTTPSClient: ACMETransport {
    /// Where certificates of the CA's HTTPS endpoint are checked against.
    public enum Trust: Sendable, Equatable {
        /// The system's roots: public CAs such as Let's Encrypt.
        case system
        /// Only the roots in this PEM file: a private or test CA (`directory_ca`).
        case caFile(String)
    }

    public var timeout: TimeAmount
    public var maximumBodyBytes: Int
    private let context: NIOSSLContext
    private let group: any EventLoopGroup

    public init(trust: Trust = .system, timeout: TimeAmount = .seconds(30), maximumBodyBytes: Int = 1 << 20,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if case .caFile(let path) = trust {
            configuration.trustRoots = .file(path)
        }
        context = try NIOSSLContext(configuration: configuration)
        self.timeout = timeout
        self.maximumBodyBytes = maximumBodyBytes
        self.group = group
    }

    public func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
        guard let url = URL(string: request.url), url.scheme?.lowercased() == "https", let host = url.host,
              !host.isEmpty
        else { throw ACMEError.transport(url: request.url, reason: "not an https:// URL") }
        let port = url.port ?? 443
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?\(query)" }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target)
        head.headers.add(name: "Host", value: url.port.map { "\(hostForHeader(host)):\($0)" } ?? hostForHeader(host))
        head.headers.add(name: "User-Agent", value: "berth-acme")
        head.headers.add(name: "Connection", value: "close")
        for field in request.headers { head.headers.add(name: field.name, value: field.value) }
        if !request.body.isEmpty || request.method == "POST" {
            head.headers.add(name: "Content-Length", value: String(request.body.count))
        }
        let requestHead = head
        // A connection that fails (refused, reset, closed during the handshake by a busy CA)
        // is tried again, twice, after a short pause: every request is a fresh connection,
        // and a repeated POST is harmless, since its nonce makes the CA refuse a replay.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await withDeadline(timeout) {
                    try await exchange(head: requestHead, body: request.body, host: host, port: port)
                }
            } catch let error as ACMEError {
                throw error
            } catch {
                guard attempt < 3, !Task.isCancelled else {
                    throw ACMEError.transport(url: request.url, reason: "\(error)")
                }
                try await Task.sleep(for: .milliseconds(250 * attempt))
            }
        }
    }

    private func exchange(head: HTTPRequestHead, body: [UInt8], host: String,
                          port: Int) async throws -> ACMEHTTPResponse {
        let context = self.context
        // SNI carries names only (RFC 6066 §3); an address literal is checked against the
        // certificate's IP entries instead.
        let serverName = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let limit = maximumBodyBytes
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(head))
            if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            var response = ACMEHTTPResponse(status: 0)
            for try await part in inbound {
                switch part {
                case .head(let responseHead):
                    response.status = Int(responseHead.status.code)
                    response.headers = responseHead.headers.map { ($0.name, $0.value) }
                case .body(let buffer):
                    guard response.body.count + buffer.readableBytes <= limit else {
                        throw ACMEError.transport(url: head.uri, reason: "response body over \(limit) bytes")
                    }
                    response.body.append(contentsOf: buffer.readableBytesView)
                case .end:
                    return response
                }
            }
            throw ACMEError.transport(url: head.uri, reason: "connection closed before the response ended")
        }
    }

    private func hostForHeader(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}

/// Runs `body`, cancelling it when `limit` passes first.
func withDeadline<T: Sendable>(_ limit: TimeAmount,
                               _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(max(0, limit.nanoseconds)))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw ACMEError.timedOut(what: "an answer within \(limit.nanoseconds / 1_000_000_000)s")
        }
        return value
    }
}
