// What an HTTP/1.1 server on SwiftNIO costs before it does any work of its own: one inbound
// handler on each connection's channel, answers built once at start, a request head found by
// its blank line and told apart by its path's length and second byte. No parsing, routing,
// validation, Date, file checks or logging: a lower bound for Berth's own request path, which
// runs on the same event loops, sockets and pipelines.
//
//   NIOFloor PORT DOCROOT [THREADS [CERT KEY]]
//       answers GET /hello (13 bytes) and GET /1k.html (DOCROOT/1k.html), 404 otherwise, on
//       THREADS event loops (2); over TLS with the PEM certificate and key when given, through
//       one NIOSSLServerHandler as Berth's connections are: the floor of HTTPS on SwiftNIO.
//       When DOCROOT/64k.bin exists, GET /64k.bin answers it from memory (head and body in one
//       buffer, one write) and GET /64k.file with `sendfile` (the head its own write, then a
//       FileRegion of a descriptor the connection opens once): how NIO sends a 64 KiB file
//       either way.
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 3, let port = Int(arguments[1]), let threads = Int(arguments.count > 3 ? arguments[3] : "2") else {
    print("usage: NIOFloor PORT DOCROOT [THREADS [CERT KEY]]")
    exit(2)
}

func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

func answer(status: String, type: String, body: [UInt8]) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 128 + body.count)
    buffer.writeString("HTTP/1.1 \(status)\r\nServer: floor\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n")
    buffer.writeBytes(body)
    return buffer
}

let hello = answer(status: "200 OK", type: "text/plain", body: Array("Hello, world!".utf8))
let oneKiB = answer(status: "200 OK", type: "text/html", body: readFile(arguments[2] + "/1k.html"))
let notFound = answer(status: "404 Not Found", type: "text/plain", body: Array("not found".utf8))
let sixtyFourKiBPath = arguments[2] + "/64k.bin"
let sixtyFourKiB: ByteBuffer? = access(sixtyFourKiBPath, R_OK) == 0
    ? answer(status: "200 OK", type: "application/octet-stream", body: readFile(sixtyFourKiBPath)) : nil
/// The same file for `sendfile`: its head alone and its size. Each connection opens the file
/// once: a `NIOFileHandle` allows one user at a time, and two event loops would share one.
let sixtyFourKiBFile: (head: ByteBuffer, size: Int)? = sixtyFourKiB.map { whole in
    let size = readFile(sixtyFourKiBPath).count
    return (whole.getSlice(at: whole.readerIndex, length: whole.readableBytes - size)!, size)
}

final class FloorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Bytes of a head that has not ended yet.
    private var partial: ByteBuffer?
    /// This connection's descriptor of the 64 KiB file, opened when first sent.
    private var file: NIOFileHandle?

    func handlerRemoved(context: ChannelHandlerContext) {
        try? self.file?.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = self.unwrapInboundIn(data)
        if var partial = self.partial {
            partial.writeBuffer(&input)
            input = partial
            self.partial = nil
        }
        while let (response, length) = Self.nextHead(in: input) {
            if response.readableBytes == 0, let file = sixtyFourKiBFile {
                if self.file == nil { self.file = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: open(sixtyFourKiBPath, O_RDONLY)) }
                context.write(NIOAny(IOData.byteBuffer(file.head)), promise: nil)
                context.write(NIOAny(IOData.fileRegion(FileRegion(fileHandle: self.file!, readerIndex: 0, endIndex: file.size))),
                              promise: nil)
            } else {
                context.write(self.wrapOutboundOut(response), promise: nil)
            }
            input.moveReaderIndex(forwardBy: length)
        }
        if input.readableBytes > 0 { self.partial = input }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// The answer to the first complete head in `input` and the head's length.
    private static func nextHead(in input: ByteBuffer) -> (ByteBuffer, Int)? {
        input.withUnsafeReadableBytes { bytes -> (ByteBuffer, Int)? in
            var end = 3
            while end < bytes.count, !(bytes[end] == 10 && bytes[end - 1] == 13 && bytes[end - 2] == 10 && bytes[end - 3] == 13) {
                end += 1
            }
            guard end < bytes.count else { return nil }
            var pathStart = 0
            while pathStart < end, bytes[pathStart] != 32 { pathStart += 1 }
            pathStart += 1
            var pathEnd = pathStart
            while pathEnd < end, bytes[pathEnd] != 32 { pathEnd += 1 }
            let length = pathEnd - pathStart
            let response: ByteBuffer
            if length == 6, bytes[pathStart + 1] == UInt8(ascii: "h") {
                response = hello
            } else if length == 8, bytes[pathStart + 1] == UInt8(ascii: "1") {
                response = oneKiB
            } else if length == 8, bytes[pathStart + 1] == UInt8(ascii: "6"), let sixtyFourKiB {
                response = sixtyFourKiB
            } else if length == 9, bytes[pathStart + 1] == UInt8(ascii: "6"), sixtyFourKiBFile != nil {
                // An empty buffer stands for the file sent with `sendfile` (see `channelRead`).
                response = ByteBuffer()
            } else {
                response = notFound
            }
            return (response, end + 1)
        }
    }
}

let tls: NIOSSLContext? = arguments.count > 5
    ? try NIOSSLContext(configuration: .makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(arguments[4]).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: arguments[5], format: .pem))))
    : nil
let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
let channel = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 4096)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
            try channel.pipeline.syncOperations.addHandler(FloorHandler())
        }
    }
    .bind(host: "127.0.0.1", port: port).wait()
print("listening on 127.0.0.1:\(port)")
try channel.closeFuture.wait()
