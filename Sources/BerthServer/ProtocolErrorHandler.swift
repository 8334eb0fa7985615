import NIOCore
import NIOHTTP1

/// Turns errors of the HTTP parser into the status RFC 9110 asks for, then closes: after a
/// framing error nothing later on the connection can be trusted. Mirrors NIO's
/// `HTTPServerProtocolErrorHandler` but answers 431 and 505 where those apply.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var responseInProgress = false
    private let connectionGuard: ConnectionGuardHandler?

    init(connectionGuard: ConnectionGuardHandler?) {
        self.connectionGuard = connectionGuard
    }

    static func status(for error: Error) -> HTTPResponseStatus {
        switch error {
        case let parserError as HTTPParserError:
            switch parserError {
            case .headerOverflow: return .requestHeaderFieldsTooLarge
            case .invalidVersion: return .httpVersionNotSupported
            default: return .badRequest
            }
        case is ByteToMessageDecoderError.PayloadTooLargeError:
            return .requestHeaderFieldsTooLarge
        default:
            return .badRequest
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError || error is ByteToMessageDecoderError else {
            context.fireErrorCaught(error)
            return
        }
        // Mid-response there is no way to send a second status line: just close.
        if !self.responseInProgress {
            let status = Self.status(for: error)
            let body = "\(status.code) \(status.reasonPhrase)\n"
            var headers = HTTPHeaders()
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            let connectionGuard = self.connectionGuard
            context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in
                if let connectionGuard { connectionGuard.progress(.closeAfterDraining) } else { context.close(promise: nil) }
            }
            self.responseInProgress = true
        } else {
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            self.responseInProgress = true
        case .end:
            self.responseInProgress = false
        default:
            break
        }
        context.write(data, promise: promise)
    }
}
