import BerthACME
import Crypto
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// What Berth's listeners will do for the CA, done by two small loopback servers: HTTP-01
/// answers over plain HTTP, TLS-ALPN-01 answers in a TLS handshake that negotiates
/// `acme-tls/1`. Both bind port 0; Pebble is told the ports.
final class TestChallengeResponder: ChallengeResponder {
    let supportedChallenges: Set<ACMEChallengeType>
    /// Set to false to publish nothing, so the CA's validation fails.
    let answersCorrectly: Bool
    private let http01Answers = Locked<[String: String]>([:])
    private let tlsAnswer = Locked<TLSALPNChallengeCertificate?>(nil)
    private let published = Locked<[String]>([])
    private let channels: [any Channel]
    let httpPort: Int
    let tlsPort: Int

    init(supporting: Set<ACMEChallengeType> = Set(ACMEChallengeType.allCases), answersCorrectly: Bool = true) async throws {
        supportedChallenges = supporting
        self.answersCorrectly = answersCorrectly
        let group = MultiThreadedEventLoopGroup.singleton
        let answers = http01Answers
        let http = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(HTTP01Handler(answers: answers))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let certificate = tlsAnswer
        let tls = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let answer = certificate.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    var configuration = TLSConfiguration.makeServerConfiguration(
                        certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(try answer.certificatePEM.utf8), format: .pem))],
                        privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(answer.privateKeyPEM.utf8), format: .pem)))
                    // RFC 8737 §3: the handshake must negotiate acme-tls/1 and nothing else.
                    configuration.applicationProtocols = [TLSALPNChallengeCertificate.applicationProtocol]
                    let context = try NIOSSLContext(configuration: configuration)
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        httpPort = http.localAddress?.port ?? 0
        tlsPort = tls.localAddress?.port ?? 0
        channels = [http, tls]
    }

    func publish(_ answer: ChallengeAnswer) async throws {
        published.withLock { $0.append("\(answer.type.rawValue) \(answer.name)") }
        guard answersCorrectly else { return }
        switch answer {
        case .http01(_, let token, let keyAuthorization):
            http01Answers.withLock { $0[ChallengeAnswer.http01Path(token: token)] = keyAuthorization }
        case .tlsALPN01(let certificate):
            tlsAnswer.withLock { $0 = certificate }
        }
    }

    func withdraw(_ answer: ChallengeAnswer) async {
        switch answer {
        case .http01(_, let token, _):
            http01Answers.withLock { $0[ChallengeAnswer.http01Path(token: token)] = nil }
        case .tlsALPN01:
            tlsAnswer.withLock { $0 = nil }
        }
    }

    /// "type name" for each answer published, in order.
    var publishedAnswers: [String] { published.withLock { $0 } }

    func stop() async {
        for channel in channels { try? await channel.close() }
    }
}

/// 200 with the key authorization for a published token (RFC 8555 §8.3), 404 otherwise.
private final class HTTP01Handler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let answers: Locked<[String: String]>

    init(answers: Locked<[String: String]>) {
        self.answers = answers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let answer = answers.withLock { $0[head.uri] }
        let body = ByteBuffer(string: answer ?? "not found")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        let status: HTTPResponseStatus = answer == nil ? .notFound : .ok
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

/// A value shared between the test and the servers' event loops.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
