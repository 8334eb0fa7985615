/// Why an app library was refused. Every message names the app, the file and the reason, and
/// says what to do about it.
public struct AppLoadError: Error, Sendable, CustomStringConvertible {
    /// What is wrong with the library.
    public enum Reason: Sendable, Equatable {
        /// The file does not exist.
        case missing
        /// The file exists but cannot be read (the system's reason).
        case unreadable(String)
        /// A directory, device or socket rather than a file.
        case notRegularFile
        /// The file does not start with the ELF magic number.
        case notELF
        /// An ELF file, but not a shared library for this machine (what it is instead).
        case wrongPlatform(String)
        /// An ELF file whose headers point past its end, or absurd in size (details).
        case truncated(String)
        /// `swift build` could not be started (the system's reason).
        case buildNotStarted(String)
        /// `swift build` failed: how it ended and the last lines it printed.
        case buildFailed(String, lastLines: [String])
        /// The built library could not be copied to its versioned name (the system's reason).
        case copyFailed(String)
        /// The probe process could not be run or gave no answer (what happened).
        case probeFailed(String)
        /// The probe process died of a signal while opening the library.
        case probeCrashed(signal: Int32, output: String)
        /// `dlopen` refused the library (`dlerror`'s text).
        case cannotOpen(String)
        /// The library has no `berth_app_entry` symbol.
        case missingEntry
        /// `berth_app_entry` returned something `exportApp` did not make (what).
        case invalidEntry(String)
        /// The app's ABI stamp is not one the server accepts.
        case stampMismatch(app: String, server: String)
        /// The library does not bind to any BerthApp library.
        case notLinkedToAPI
        /// The library carries its own copy of BerthApp instead of using the process's.
        case ownAPICopy
        /// The exported type does not conform to `App` in this process.
        case notAnApp
    }

    /// The app's name in the virtual-host file.
    public let app: String
    /// The library (or package folder, for build failures) the error is about.
    public let file: String
    /// What is wrong.
    public let reason: Reason

    /// An error about `app`'s `file`.
    public init(app: String, file: String, reason: Reason) {
        self.app = app
        self.file = file
        self.reason = reason
    }

    /// `app notes: /srv/notes/lib.so: <reason>: <what to do>`.
    public var description: String {
        "app \(app): \(file): \(explanation)"
    }

    private var explanation: String {
        switch reason {
        case .missing:
            return "no such file: build the app (swift build -c release) or fix the library path"
        case .unreadable(let why):
            return "cannot be read (\(why)): fix its permissions for the user berth runs as"
        case .notRegularFile:
            return "not a regular file: point the app at the .so file that swift build produced"
        case .notELF:
            return "not a shared library (it does not start with the ELF magic number): point the app at the .so file that swift build produced"
        case .wrongPlatform(let what):
            return "not a shared library for this machine (\(what)): rebuild the app here"
        case .truncated(let detail):
            return "truncated or corrupt (\(detail)): rebuild the app, and deploy it by writing a new file and renaming it over the old one"
        case .buildNotStarted(let why):
            return "swift build could not be started (\(why)): install a Swift toolchain or put swift on PATH"
        case .buildFailed(let how, let lines):
            let tail = lines.isEmpty ? "" : ":\n" + lines.map { "    " + $0 }.joined(separator: "\n")
            return "swift build failed (\(how)); fix the app and reload\(tail)"
        case .copyFailed(let why):
            return "the built library could not be copied to a versioned file (\(why)): check free space and permissions of the package's .build folder"
        case .probeFailed(let what):
            return "could not be probed in a child process (\(what))"
        case .probeCrashed(let signal, let output):
            let said = output.isEmpty ? "" : "; it printed: \(output)"
            return "the library crashed the loader while being probed (is it truncated or built for another platform?): signal \(signal)\(said); rebuild the app"
        case .cannotOpen(let why):
            return "cannot be loaded (\(why)): rebuild the app against this server's BerthApp"
        case .missingEntry:
            return "does not export berth_app_entry: add `@_cdecl(\"berth_app_entry\") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(YourApp.self) }` to the app"
        case .invalidEntry(let what):
            return "\(what): export the app with `exportApp(YourApp.self)` from berth_app_entry"
        case .stampMismatch(let app, let server):
            return "built against \(app), this server runs \(server): rebuild the app"
        case .notLinkedToAPI:
            return "does not link the BerthApp library: depend on the BerthApp product"
        case .ownAPICopy:
            return "links its own copy of BerthApp; depend on the BerthApp product (dynamic) instead"
        case .notAnApp:
            return "the type it exports does not conform to BerthApp's App protocol: pass your App type to exportApp"
        }
    }
}
