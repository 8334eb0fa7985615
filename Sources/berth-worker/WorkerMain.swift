import BerthPlugins
import BerthProcess
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `berth-worker`: a worker process of a berth master, or a child in which the master (and
/// `berth check`) first opens an app library or checks a configuration's sites. Started by
/// `berth`, never by people.
///
/// A worker switches to its configured account first, synchronously, while this is the only
/// thread: the async runtime parks the main thread for good once it starts, and a `setuid`
/// issued from another thread afterwards does not reach a parked thread, which would leave
/// the process half root.
@main
enum WorkerMain {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case AppProbing.command: exit(AppProbing.run(Array(arguments.dropFirst())))
        case SiteCheckReport.command: exit(SiteChecking.run(Array(arguments.dropFirst())))
        default: break
        }
        guard let start = WorkerStart.prepare() else {
            Descriptor.writeAll(STDERR_FILENO, Array("berth-worker: started by 'berth run', not by hand\n".utf8))
            exit(2)
        }
        // Detached: `main` runs on the main actor, and a task created here would come back
        // to it after serving. Once an app has loaded Foundation (on a thread of its own, not
        // this one), work sent to the main queue no longer runs, and such a worker would
        // drain and then never exit.
        Task.detached {
            exit(await WorkerRun.run(start))
        }
        dispatchMain()
    }
}
