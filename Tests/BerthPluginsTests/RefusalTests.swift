import Foundation
import Testing
@_spi(BerthServer) import BerthApp
@_spi(BerthServer) @testable import BerthPlugins
@_spi(BerthServer) import BerthAppLoader
@_spi(BerthServer) import BerthAppLoader

/// Each way a library can be unfit, through the real checks and probe process, with the
/// message a user would read.
@Suite("Refusals", .timeLimit(.minutes(20)))
struct RefusalTests {
    private func refusal(of path: String) async throws -> AppLoadError? {
        let probe = try await Fixtures.shared.probe()
        do {
            _ = try AppLibrary.verify(name: "demo", libraryPath: path, probe: probe, probeTimeoutSeconds: 60)
            return nil
        } catch {
            return error
        }
    }

    @Test func missingFile() async throws {
        let path = try makeTemporaryFolder() + "/libNothing.so"
        let error = try #require(try await refusal(of: path))
        #expect(error.reason == .missing)
        #expect(error.description == "app demo: \(path): no such file: build the app (swift build -c release) or fix the library path")
    }

    @Test func directoryIsNotALibrary() async throws {
        let path = try makeTemporaryFolder()
        let error = try #require(try await refusal(of: path))
        #expect(error.description == "app demo: \(path): not a regular file: point the app at the .so file that swift build produced")
    }

    @Test func textFileIsNotELF() async throws {
        let path = try makeTemporaryFolder() + "/libText.so"
        try "#!/bin/sh\necho not a library\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(try await refusal(of: path))
        #expect(error.reason == .notELF)
        #expect(error.description.hasPrefix("app demo: \(path): not a shared library (it does not start with the ELF magic number)"))
    }

    @Test func truncatedLibrary() async throws {
        let real = try Data(contentsOf: URL(fileURLWithPath: try await Fixtures.shared.twinHello()))
        let folder = try makeTemporaryFolder()
        let half = folder + "/libHalf.so"
        try real.prefix(real.count / 2).write(to: URL(fileURLWithPath: half))
        let error = try #require(try await refusal(of: half))
        #expect(error.description.hasPrefix("app demo: \(half): truncated or corrupt (its section headers end past its \(real.count / 2) bytes)"))
        #expect(error.description.hasSuffix("rebuild the app, and deploy it by writing a new file and renaming it over the old one"))

        let stub = folder + "/libStub.so"
        try real.prefix(20).write(to: URL(fileURLWithPath: stub))
        let short = try #require(try await refusal(of: stub))
        #expect(short.reason == .truncated("20 bytes, shorter than an ELF header"))
    }

    @Test func executableIsNotALibrary() async throws {
        // A position-independent executable has the header of a shared library; dlopen refuses it.
        let error = try #require(try await refusal(of: "/bin/sh"))
        guard case .cannotOpen = error.reason else {
            Issue.record("expected cannotOpen, got \(error)")
            return
        }
        #expect(error.description.hasPrefix("app demo: /bin/sh: cannot be loaded ("))
    }

    @Test func crashWhileLoadingIsContained() async throws {
        let path = try await Fixtures.shared.crashOnLoad()
        let error = try #require(try await refusal(of: path))
        #expect(error.description.hasPrefix(
            "app demo: \(path): the library crashed the loader while being probed (is it truncated or built for another platform?): signal 11"))
    }

    @Test func missingEntrySymbol() async throws {
        let path = try await Fixtures.shared.noEntry()
        let error = try #require(try await refusal(of: path))
        #expect(error.description == """
            app demo: \(path): does not export berth_app_entry: add `@_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(YourApp.self) }` to the app
            """)
        // The same check in the worker itself, for a library that skipped the probe.
        #expect(throws: AppLoadError.self) { try LoadedApp.load(name: "demo", libraryPath: path) }
    }

    @Test func stampFromAnotherCompiler() async throws {
        let path = try await Fixtures.shared.staleStamp()
        let error = try #require(try await refusal(of: path))
        let server = AppStamp.server
        #expect(error.description == """
            app demo: \(path): built against BerthApp API 1 with Swift 6.2, this server runs API \(server.apiVersion) with Swift \(server.compiler): rebuild the app
            """)
        do {
            _ = try LoadedApp.load(name: "demo", libraryPath: path)
            Issue.record("a library with a foreign stamp was loaded")
        } catch {
            #expect(error.reason == .stampMismatch(app: "BerthApp API 1 with Swift 6.2",
                                                    server: "API \(server.apiVersion) with Swift \(server.compiler)"))
        }
    }

    @Test func ownCopyOfTheAPI() async throws {
        let path = try await Fixtures.shared.ownCopy()
        let error = try #require(try await refusal(of: path))
        #expect(error.description == "app demo: \(path): links its own copy of BerthApp; depend on the BerthApp product (dynamic) instead")
    }

    @Test func probeCommandThatReportsNothing() async throws {
        let path = try await Fixtures.shared.twinHello()
        do {
            _ = try AppLibrary.verify(name: "demo", libraryPath: path, probe: ["/bin/true"])
            Issue.record("a silent probe was taken for a yes")
        } catch {
            #expect(error.description.contains("could not be probed in a child process (`/bin/true` gave no report, exit status 0)"))
        }
    }

    @Test func identitySymbolNamesTheAPIsRequestType() {
        // If Request were renamed or moved, the copy check would silently compare two nils.
        #expect(dlsym(nil, AppEntryRecord.identitySymbol) != nil)
    }

    @Test func stampAcceptsOnlyTheSameCompilerAndServedAPIs() {
        let server = AppStamp(apiVersion: 2, compiler: "6.3.1")
        #expect(server.accepts(AppStamp(apiVersion: 2, compiler: "6.3.1")))
        #expect(server.accepts(AppStamp(apiVersion: 1, compiler: "6.3.1")))
        #expect(!server.accepts(AppStamp(apiVersion: 3, compiler: "6.3.1")))
        #expect(!server.accepts(AppStamp(apiVersion: 2, compiler: "6.3")))
    }

    @Test func elfHeaderChecksWithoutFiles() {
        var header = [UInt8](repeating: 0, count: 64)
        header[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        header[4] = 1
        let reader: ([UInt8]) -> (Int, Int) -> [UInt8]? = { bytes in
            { offset, count in offset + count <= bytes.count ? Array(bytes[offset..<offset + count]) : nil }
        }
        #expect(LibraryFileCheck.problem(reading: reader(header), size: 64) == .wrongPlatform("a 32-bit ELF file"))
        header[4] = 2
        header[5] = 1
        header[16] = 3
        header[18] = 40 // ARM
        let arm = LibraryFileCheck.problem(reading: reader(header), size: 64)
        #expect(arm == .wrongPlatform("ELF machine 40, this machine is \(LibraryFileCheck.hostMachine)"))
        #expect(LibraryFileCheck.problem(reading: reader(header), size: 3 << 30)
            == .truncated("\(3 << 30) bytes, more than any app library should be"))
    }
}
