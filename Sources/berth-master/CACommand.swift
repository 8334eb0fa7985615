import ArgumentParser
import BerthConfig
import BerthProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `berth ca`: the local certificate authority behind `tls: internal` hosts.
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "The local CA that signs the certificates of 'tls: internal' hosts.",
        subcommands: [CAPathCommand.self]
    )
}

/// `berth ca path`: the root certificate's file, for adding to a trust store, e.g.
/// `sudo cp "$(berth ca path)" /usr/local/share/ca-certificates/berth.crt && sudo update-ca-certificates`.
struct CAPathCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path",
        abstract: "Print the path of the local CA's root certificate (PEM).",
        discussion: "The root is made the first time berth runs with a 'tls: internal' host, in the storage folder of the 'acme:' block (default: acme next to the virtual-host file)."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let config = try self.options.load()
        let path = ManagedTLSLayout(config: config).localRootCertificate
        guard access(path, R_OK) == 0 else {
            StandardError.write("berth: no local CA root at '\(path)' yet: it is made when berth first runs with a "
                                + "'tls: internal' host\n")
            throw ExitCode(1)
        }
        print(path)
    }
}
