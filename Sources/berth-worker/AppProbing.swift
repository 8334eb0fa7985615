import BerthPlugins
import BerthAppLoader
import BerthProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `berth-worker probe-app PATH`: the child process in which the master and `berth check` open
/// an app library before any worker trusts it, so that a library that crashes the loader takes
/// down only this process. It is the worker's binary because the probe must see the same copy
/// of the app API and the Swift runtime a worker has. It prints one machine-readable line (see
/// `AppProbe`).
enum AppProbing {
    static let command = "probe-app"

    /// The exit status.
    static func run(_ arguments: [String]) -> Int32 {
        guard arguments.count == 1, let path = arguments.first else {
            Descriptor.writeAll(STDERR_FILENO, Array("usage: berth-worker \(command) LIBRARY\n".utf8))
            return 2
        }
        return AppProbe.run(libraryPath: path)
    }
}
