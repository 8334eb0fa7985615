import BerthConfig
import Foundation
@testable import BerthStatic
import CBerthCompression
import NIOCore
import NIOEmbedded
import Testing

@testable import BerthServer

/// The compression filter on response messages, and the encoders under it, without sockets.
@Suite("Compression filter and encoders")
struct CompressionFilterTests {
    static let html = String(repeating: "<p>Berth compresses text on the fly.</p>\n", count: 200)
    let settings = CompressionSettings(CompressionConfig())
    let allocator = ByteBufferAllocator()

    private func message(_ body: String = Self.html, status: Int = 200, fields: [(String, String)] = []) -> ResponseMessage {
        let buffer = ByteBuffer(string: body)
        return ResponseMessage(
            status: status,
            fields: [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", String(buffer.readableBytes)),
                     ("ETag", "\"v1\""), ("Accept-Ranges", "bytes")] + fields,
            body: .bytes(buffer))
    }

    private func filter(_ message: ResponseMessage, accept: String?, answered: ResponseMessage? = nil,
                        settings: CompressionSettings? = nil) -> ResponseMessage {
        var message = message
        CompressionFilter.apply(to: &message, answered: answered ?? message, settings: settings ?? self.settings, acceptEncoding: accept,
                                variants: VariantCache(capacity: 1 << 20), allocator: self.allocator)
        return message
    }

    @Test func compressesABodyAndDescribesTheVariant() throws {
        let gzip = filter(message(), accept: "gzip")
        guard case .bytes(let body) = gzip.body else { Issue.record("expected bytes"); return }
        #expect(gzip.field("content-encoding") == "gzip")
        #expect(gzip.field("content-length") == String(body.readableBytes))
        #expect(gzip.field("etag") == "\"v1-gzip5\"")
        #expect(gzip.field("vary") == "Accept-Encoding")
        #expect(gzip.field("accept-ranges") == nil)
        #expect(body.readableBytes < Self.html.utf8.count / 10)
        #expect(try Gunzip.decode(body) == Self.html)

        let brotli = filter(message(fields: [("Vary", "Origin")]), accept: "br, gzip")
        #expect(brotli.field("content-encoding") == "br" && brotli.field("etag") == "\"v1-br4\"")
        #expect(brotli.field("vary") == "Origin, Accept-Encoding")
    }

    /// A hot file's answer carries fields prepared when it was opened; its compressed answer's
    /// are prepared once, kept with the file's, and the same object answers the next request.
    @Test func aHotFilesCompressedAnswerIsPreparedOnce() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-variant-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(Self.html.utf8).write(to: root.appendingPathComponent("page.html"))
        let site = try StaticSite(options: StaticConfig(root: root.path))
        let variants = VariantCache(capacity: 1 << 20)
        func answer(_ accept: String) -> ResponseMessage? {
            let request = StaticRequest(method: "GET", path: "/page.html", originalPath: "/page.html", query: nil, headers: StaticRequestHeaders())
            guard case .response(let response) = site.respond(to: request) else { return nil }
            var message = ResponseMessage(response)
            CompressionFilter.apply(to: &message, answered: message, settings: self.settings, acceptEncoding: accept, variants: variants,
                                    allocator: self.allocator)
            return message
        }
        let first = try #require(answer("gzip"))
        let second = try #require(answer("gzip, br;q=0.5"))
        guard case .bytes(let body) = second.body else { Issue.record("expected bytes"); return }
        let prepared = try #require(second.prepared)
        #expect(first.prepared === prepared)
        #expect(second.field("content-encoding") == "gzip" && second.field("content-length") == String(body.readableBytes))
        #expect(second.field("etag")?.hasSuffix("-gzip5\"") == true && second.field("accept-ranges") == nil)
        #expect(String(buffer: prepared.http1) == second.fields.map { "\($0.0): \($0.1)\r\n" }.joined())
        #expect(try Gunzip.decode(body) == Self.html)
        // Another coding is another variant, with fields of its own.
        let brotli = try #require(answer("br"))
        #expect(brotli.field("content-encoding") == "br" && brotli.prepared != nil && brotli.prepared !== prepared)
    }

    /// A revalidation of a hot file gets a 304 prepared when the file was opened; the 304 of
    /// its compressed variant is marked once and kept likewise.
    @Test func aHotFilesNotModifiedIsPreparedOnce() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-variant-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(Self.html.utf8).write(to: root.appendingPathComponent("page.html"))
        let site = try StaticSite(options: StaticConfig(root: root.path, cacheControl: "max-age=60"))
        let variants = VariantCache(capacity: 1 << 20)
        func answer(_ accept: String?, ifNoneMatch: String) -> ResponseMessage? {
            let request = StaticRequest(method: "GET", path: "/page.html", originalPath: "/page.html", query: nil,
                                        headers: StaticRequestHeaders(fields: [("If-None-Match", ifNoneMatch)]))
            guard case .response(let response) = site.respond(to: request) else { return nil }
            var message = ResponseMessage(response)
            CompressionFilter.apply(to: &message, answered: nil, settings: self.settings, acceptEncoding: accept, variants: variants,
                                    allocator: self.allocator)
            return message
        }
        let full = try #require(answer(nil, ifNoneMatch: "\"none\""))
        let tag = try #require(full.field("etag"))
        let plain = try #require(answer(nil, ifNoneMatch: tag))
        #expect(plain.status == 304 && plain.prepared != nil)
        #expect(plain.fields.map(\.0) == ["ETag", "Last-Modified", "Vary", "Cache-Control"])
        #expect(plain.field("etag") == tag && plain.field("last-modified") == full.field("last-modified"))
        #expect(plain.field("cache-control") == "max-age=60" && plain.field("content-length") == nil)
        #expect(String(buffer: try #require(plain.prepared).http1) == plain.fields.map { "\($0.0): \($0.1)\r\n" }.joined())
        let first = try #require(answer("gzip", ifNoneMatch: tag))
        let second = try #require(answer("gzip, br;q=0.5", ifNoneMatch: String(tag.dropLast()) + "-gzip5\""))
        #expect(first.status == 304 && second.status == 304)
        let prepared = try #require(second.prepared)
        #expect(first.prepared === prepared && prepared !== plain.prepared)
        #expect(second.field("etag") == String(tag.dropLast()) + "-gzip5\"")
        #expect(second.field("content-encoding") == nil && second.field("content-length") == nil)
        #expect(second.field("vary") == "Accept-Encoding" && second.field("cache-control") == "max-age=60")
        #expect(String(buffer: prepared.http1) == second.fields.map { "\($0.0): \($0.1)\r\n" }.joined())
        let brotli = try #require(answer("br", ifNoneMatch: tag))
        #expect(brotli.field("etag") == String(tag.dropLast()) + "-br4\"" && brotli.prepared !== prepared)
    }

    @Test func identityAnswersOfCandidatesVary() {
        let identity = filter(message(), accept: nil)
        #expect(identity.field("content-encoding") == nil && identity.field("vary") == "Accept-Encoding")
        #expect(identity.field("etag") == "\"v1\"" && identity.field("content-length") == String(Self.html.utf8.count))
        // Already varying on it: the fields stay as they are.
        let varied = filter(message(fields: [("Vary", "accept-encoding")]), accept: "identity")
        #expect(varied.fields.filter { $0.0 == "Vary" }.map(\.1) == ["accept-encoding"])
        // Not candidates: nothing added.
        #expect(filter(message("tiny"), accept: "gzip").field("vary") == nil)
        #expect(filter(message(fields: [("Cache-Control", "no-transform")]), accept: "gzip").field("content-encoding") == nil)
        #expect(filter(message(), accept: "gzip", settings: nil).field("content-encoding") == "gzip")
        var off = message()
        CompressionFilter.apply(to: &off, answered: off, settings: nil, acceptEncoding: "gzip", variants: VariantCache(capacity: 0),
                                allocator: self.allocator)
        #expect(off.field("content-encoding") == nil && off.field("vary") == nil)
    }

    @Test func bodiesThatDoNotShrinkGoAsTheyAre() {
        var random = SystemRandomNumberGenerator()
        let noise = ByteBuffer(bytes: (0..<4000).map { _ in UInt8.random(in: 0...255, using: &random) })
        var noisy = message()
        noisy.body = .bytes(noise)
        let answer = filter(noisy, accept: "gzip")
        #expect(answer.field("content-encoding") == nil && answer.field("vary") == "Accept-Encoding")
    }

    @Test func aNotModifiedAnswerGetsTheTagOfTheVariantTheClientWouldGet() {
        let answered = message()
        let notModified = ResponseMessage(status: 304, fields: [("ETag", "\"v1\""), ("Cache-Control", "max-age=60")], body: .empty)
        let gzip = filter(notModified, accept: "gzip", answered: answered)
        #expect(gzip.field("etag") == "\"v1-gzip5\"" && gzip.field("vary") == "Accept-Encoding")
        #expect(gzip.field("content-encoding") == nil && gzip.field("content-length") == nil)
        let identity = filter(notModified, accept: nil, answered: answered)
        #expect(identity.field("etag") == "\"v1\"" && identity.field("vary") == "Accept-Encoding")
    }

    @Test func streamsAreCompressedChunkByChunkAndFlushed() throws {
        let stream = ResponseStream { sink in
            _ = sink.write(ByteBuffer(string: "first chunk\n"))
            _ = sink.write(ByteBuffer(string: "second chunk\n"))
            sink.finish()
        }
        let streamed = ResponseMessage(status: 200, fields: [("Content-Type", "application/json")], body: .stream(stream))
        let answer = filter(streamed, accept: "gzip")
        #expect(answer.field("content-encoding") == "gzip" && answer.field("content-length") == nil)
        guard case .stream(let compressed) = answer.body else { Issue.record("expected a stream"); return }
        let sink = CollectingSink()
        compressed.start(sink)
        #expect(sink.finished && sink.chunks.count == 3)
        // Each chunk decodes on its own, before the next arrives (a sync flush).
        let decoder = try Gunzip()
        #expect(try decoder.feed(sink.chunks[0]) == "first chunk\n")
        #expect(try decoder.feed(sink.chunks[1]) == "second chunk\n")
        #expect(try decoder.feed(sink.chunks[2]) == "" && decoder.ended)
    }

    @Test func brotliFlushesEachChunkToo() throws {
        let encoder = try #require(ContentEncoder(coding: .brotli, level: 4))
        var first = ByteBuffer(), second = ByteBuffer(), last = ByteBuffer()
        encoder.compressAndFlush(ByteBuffer(string: "hello "), into: &first)
        encoder.compressAndFlush(ByteBuffer(string: "world"), into: &second)
        encoder.finish(into: &last)
        #expect(first.readableBytes > 0 && second.readableBytes > 0 && last.readableBytes > 0)
        #expect(ContentEncoder(coding: .zstandard, level: 3) == nil)
    }

    @Test func theVariantCacheIsBoundedAndLeastRecentlyUsedGoesFirst() {
        func key(_ inode: Int) -> VariantCache.Key {
            VariantCache.Key(identity: FileIdentity.testValue(inode: inode), coding: .gzip, level: 5)
        }
        let kilobyte = ByteBuffer(repeating: 0x61, count: 1000)
        // The cache counts the memory a buffer holds, which allocation may round up.
        let unit = kilobyte.capacity
        let cache = VariantCache(capacity: 4 * unit)
        cache.insert(kilobyte, for: key(1))
        cache.insert(kilobyte, for: key(2))
        cache.insert(kilobyte, for: key(3))
        #expect(cache.lookup(key(1)) != nil)  // now the most recent
        cache.insert(kilobyte, for: key(4))
        cache.insert(kilobyte, for: key(5))
        #expect(cache.size <= 4 * unit && cache.lookup(key(1)) != nil && cache.lookup(key(2)) == nil)
        // Larger than a quarter of the bound: served, not kept.
        cache.insert(ByteBuffer(repeating: 0x62, count: unit + 1), for: key(6))
        #expect(cache.lookup(key(6)) == nil)
        // Ten bytes in a buffer that holds the whole bound count as the whole bound.
        var roomy = ByteBufferAllocator().buffer(capacity: 4 * unit)
        roomy.writeString("0123456789")
        cache.insert(roomy, for: key(7))
        #expect(cache.lookup(key(7)) == nil)
        #expect(VariantCache(capacity: 0).lookup(key(1)) == nil)
    }
}

extension FileIdentity {
    static func testValue(inode: Int) -> FileIdentity {
        FileIdentity(device: 1, inode: UInt64(inode), size: 1000, modifiedNanoseconds: 0, changedNanoseconds: 0)
    }
}

/// Records what a streamed body writes.
final class CollectingSink: ResponseStreamSink {
    let loop = EmbeddedEventLoop()
    var chunks: [ByteBuffer] = []
    var finished = false

    func write(_ chunk: ByteBuffer) -> EventLoopFuture<Void> {
        self.chunks.append(chunk)
        return self.loop.makeSucceededVoidFuture()
    }

    func finish() { self.finished = true }
    func fail(_ error: Error) {}
}

/// zlib's inflate for gzip, fed piece by piece: what a client does with a compressed stream.
final class Gunzip {
    struct Failed: Error {}
    private var stream = z_stream()
    private(set) var ended = false

    init() throws {
        guard inflateInit2_(&self.stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw Failed() }
    }

    deinit { inflateEnd(&self.stream) }

    func feed(_ input: ByteBuffer) throws -> String {
        var bytes = Array(input.readableBytesView)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        try bytes.withUnsafeMutableBufferPointer { input in
            self.stream.next_in = input.baseAddress
            self.stream.avail_in = uInt(input.count)
            repeat {
                let result = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    self.stream.next_out = out.baseAddress
                    self.stream.avail_out = uInt(out.count)
                    return inflate(&self.stream, Z_SYNC_FLUSH)
                }
                guard result == Z_OK || result == Z_STREAM_END || result == Z_BUF_ERROR else { throw Failed() }
                output += chunk[0..<(chunk.count - Int(self.stream.avail_out))]
                if result == Z_STREAM_END { self.ended = true }
                if result != Z_OK { break }
            } while self.stream.avail_out == 0 || self.stream.avail_in > 0
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ input: ByteBuffer) throws -> String {
        let decoder = try Gunzip()
        let text = try decoder.feed(input)
        guard decoder.ended else { throw Failed() }
        return text
    }
}
