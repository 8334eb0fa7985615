#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
@_spi(BerthServer) import BerthApp

/// The check that a test process holds one copy of the app API, as the server checks an app
/// before it trusts it (see ``AppEntryRecord/identitySymbol``).
///
/// With two copies, casts and typed errors silently fail across them. The usual way to get
/// there is a test target that reaches the BerthApp *target* (a local copy of its sources, or a
/// package that depends on the target): SwiftPM then links the API into the test executable
/// itself, beside the shared library the app links, and the executable's copy shadows the
/// library's. So the API's type descriptor, looked up in the whole process, must be the one in
/// the shared library.
enum SingleAPICopy {
    static func check() throws {
        guard let problem = problem() else { return }
        throw SingleAPICopyError(message: problem)
    }

    /// Why this process is wrong, or nil when it holds the API once.
    static func problem() -> String? {
        #if os(Linux)
        let library = "libBerthApp.so"
        #else
        let library = "libBerthApp.dylib"
        #endif
        // Not loaded at all: the API is linked in statically, once, and that is all there is.
        guard let handle = dlopen(library, RTLD_NOW | RTLD_NOLOAD) else { return nil }
        let shared = dlsym(handle, AppEntryRecord.identitySymbol)
        let found = dlsym(nil, AppEntryRecord.identitySymbol)
        guard shared != found else { return nil }
        return "this test process holds two copies of BerthApp (\(library) and one linked into the test "
            + "executable), so the app under test and this test kit may each use another: depend on the "
            + "BerthApp product (never its target or a copy of its sources) and on the BerthAppTesting "
            + "product of Sources/BerthAppTesting"
    }
}

/// The test process holds the app API more than once; see ``SingleAPICopy``.
public struct SingleAPICopyError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix the package.
    public let message: String

    /// The message.
    public var description: String { message }
}
