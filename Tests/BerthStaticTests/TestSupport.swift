import Foundation
import NIOCore
import Testing

import BerthConfig
@testable import BerthStatic

/// A temporary site root on the real file system, removed when the value goes away.
final class TemporaryRoot {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "berth-static-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { throw POSIXError(.EIO) }
        path = String(cString: created)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func url(_ relative: String) -> URL {
        URL(fileURLWithPath: path + "/" + relative)
    }

    @discardableResult
    func write(_ relative: String, _ text: String, modified: Int? = nil) throws -> String {
        try write(relative, bytes: Array(text.utf8), modified: modified)
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8], modified: Int? = nil) throws -> String {
        let url = url(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        if let modified { try setModified(relative, seconds: modified) }
        return url.path
    }

    func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(at: url(relative), withIntermediateDirectories: true)
    }

    func symlink(_ relative: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path + "/" + relative, withDestinationPath: destination)
    }

    func setModified(_ relative: String, seconds: Int, nanoseconds: Int = 0) throws {
        var times = [
            timespec(tv_sec: seconds, tv_nsec: nanoseconds),
            timespec(tv_sec: seconds, tv_nsec: nanoseconds),
        ]
        guard utimensat(AT_FDCWD, path + "/" + relative, &times, 0) == 0 else { throw POSIXError(.EIO) }
    }

    /// Overwrites bytes at the start of the file without truncating or replacing it.
    func overwriteInPlace(_ relative: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: url(relative))
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(at: url(relative))
    }

    func site(_ configure: (inout StaticConfig) -> Void = { _ in }) throws -> StaticSite {
        var options = StaticConfig(root: path)
        configure(&options)
        return try StaticSite(options: options)
    }
}

/// Deterministic content of any length, so ranges of big files can be checked byte for byte.
func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) }
}

extension StaticSite {
    /// The response, or nil for `.notFound`.
    func get(
        _ path: String,
        method: String = "GET",
        query: String? = nil,
        _ headers: StaticRequestHeaders = StaticRequestHeaders(),
        memo: StatusMemo? = nil
    ) -> StaticResponse? {
        let request = StaticRequest(method: method, path: path, query: query, headers: headers)
        switch respond(to: request, memo: memo) {
        case .response(let response): return response
        case .notFound: return nil
        }
    }
}

extension StaticResponse {
    /// Every byte the server would write for this body, file segments read with pread.
    var bodyBytes: [UInt8] {
        switch body {
        case .empty: return []
        case .bytes(let buffer): return Array(buffer.readableBytesView)
        case .file(let file, let offset, let count): return read(file, offset: offset, count: count)
        case .parts(let parts):
            return parts.flatMap { part -> [UInt8] in
                switch part {
                case .bytes(let buffer): return Array(buffer.readableBytesView)
                case .file(let file, let offset, let count): return read(file, offset: offset, count: count)
                }
            }
        }
    }

    var bodyText: String { String(decoding: bodyBytes, as: UTF8.self) }

    var isFileBody: Bool {
        if case .file = body { return true }
        return false
    }

    private func read(_ file: OpenFile, offset: Int64, count: Int64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(count))
        let done = try? file.handle.withUnsafeFileDescriptor { fd in
            out.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, Int(count), off_t(offset)) }
        }
        #expect(done == Int(count))
        return out
    }
}
