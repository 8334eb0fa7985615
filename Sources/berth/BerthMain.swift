import Dispatch
import Foundation

/// The process entry point.
///
/// A worker switches to its configured account first, synchronously, while this is the only
/// thread: the async runtime parks the main thread for good once it starts, and a `setuid`
/// issued from another thread afterwards does not reach a parked thread, which would leave
/// the process half root. Everything else is the ordinary command line.
@main
enum BerthMain {
    static func main() {
        if CommandLine.arguments.dropFirst().first == WorkerCommand.configuration.commandName {
            WorkerStart.prepare()
        }
        Task {
            await Berth.main()
            exit(0)
        }
        dispatchMain()
    }
}
