#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where this process's executable lives: berth's binaries (`berth`, `berth-master`,
/// `berth-worker`) are installed side by side and find each other there.
package enum OwnExecutable {
    /// The folder, with a trailing slash.
    package static let folder: String = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let own = count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments.first ?? ""
        return own.lastIndex(of: "/").map { String(own[...$0]) } ?? "./"
    }()
}
