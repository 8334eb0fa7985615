/// libFuzzer's entry points for the harnesses of Tests/FuzzReplayTests/Harnesses. One binary
/// holds them all; fuzz/run.sh links it under each harness's name, and the name it was started
/// by picks the harness, so `.build/fuzz/http1 crash-…` reruns a reproducer.
nonisolated(unsafe) private var harness: FuzzHarness?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    let path = argv.pointee[0].map { String(cString: $0) } ?? ""
    let name = String(path.split(separator: "/").last ?? "")
    guard let found = FuzzHarnesses.named(name) else {
        fatalError("started as \(name), which is none of the harnesses: \(FuzzHarnesses.all.map(\.name))")
    }
    harness = found
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    harness!.run(FuzzInput(bytes: bytes))
    return 0
}
