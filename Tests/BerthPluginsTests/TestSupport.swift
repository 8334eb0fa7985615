import Foundation
@_spi(BerthServer) import BerthApp

/// A request as the server would build it, with the whole body already there.
func makeRequest(
    _ method: Request.Method = .get,
    _ target: String,
    headers: [(String, String)] = [],
    body: [UInt8] = [],
    host: String = "localhost"
) -> Request {
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    return Request(
        method: method,
        path: String(parts[0]),
        queryString: parts.count > 1 ? String(parts[1]) : "",
        headers: Headers(trustedFields: headers.map { (name: $0.0, value: $0.1) }),
        remoteAddress: "127.0.0.1",
        host: host,
        body: RequestBody(bytes: body)
    )
}

/// A request with a JSON body.
func makeJSONRequest(_ method: Request.Method, _ target: String, _ json: String) -> Request {
    makeRequest(method, target, headers: [("Content-Type", "application/json")], body: Array(json.utf8))
}

extension Response {
    /// The body as text, for `.bytes` and `.empty` bodies.
    var text: String {
        switch body {
        case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .empty: return ""
        default: return "<\(body)>"
        }
    }

    /// The body decoded as a JSON object.
    var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}

/// A fresh, empty folder for one test, under a folder for this test process.
func makeTemporaryFolder() throws -> String {
    let path = scratchFolder + "/" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// `<workspace>/scratch/<pid>`; folders left by earlier test processes that are gone are removed.
private let scratchFolder: String = {
    let parent = Fixtures.workspace + "/scratch"
    let manager = FileManager.default
    for name in (try? manager.contentsOfDirectory(atPath: parent)) ?? [] {
        if let pid = Int32(name), kill(pid, 0) != 0, errno == ESRCH {
            try? manager.removeItem(atPath: parent + "/" + name)
        }
    }
    return parent + "/\(getpid())"
}()

/// Runs blocking work (a build: seconds to minutes) on its own thread, not on the test pool,
/// which has one thread per core and is shared with every other test in the process.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
