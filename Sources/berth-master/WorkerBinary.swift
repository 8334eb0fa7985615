import BerthProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The worker executable, `berth-worker`, installed next to `berth-master` (SwiftPM builds
/// them into one folder). Workers are a binary of their own: they link the Swift runtime dynamically,
/// which apps need, while this master carries a static copy and maps only the pages it uses.
enum WorkerBinary {
    static let name = "berth-worker"

    /// Its absolute path, found beside the running master's own executable.
    static let path = OwnExecutable.folder + name

    /// Why workers cannot start, or nil when the binary is there and executable.
    static func problem() -> String? {
        access(path, X_OK) == 0 ? nil
            : "cannot run the worker executable '\(path)': \(String(cString: strerror(errno))); "
                + "install \(name) in the same folder as berth"
    }

    /// The command that probes an app library in a child: the worker's binary, so the child
    /// has the copy of the app API and the Swift runtime a worker will have.
    static var probe: [String] { [path, "probe-app"] }
}
