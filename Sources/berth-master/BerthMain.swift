import Dispatch
import BerthProcess
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process entry point: the command line, run on the async runtime while the main thread
/// serves Dispatch's main queue.
@main
enum BerthMain {
    static func main() {
        Task {
            await Berth.main()
            exit(0)
        }
        dispatchMain()
    }
}
