import Foundation
import Testing

/// `unsent_bytes` bounds what a connection's socket holds that TCP has not sent: a large file
/// for a client that stops reading stays in the file, not in the kernel's send queue.
@Suite("Unsent bytes per connection")
struct UnsentBytesTests {
    /// A file far larger than any socket buffer the client's window lets through.
    static let fileSize = 4 * 1024 * 1024

    static func start(listenExtra: String) throws -> BerthProcess {
        let yaml = """
            listen:
              - { address: 127.0.0.1, port: 0\(listenExtra) }
            threads: 1
            logs: { error: stderr, access: "off" }
            hosts:
              localhost: { default: true, static: www }
            """
        return try BerthProcess(yaml: yaml, prepare: { dir in
            let www = dir.appendingPathComponent("www")
            try FileManager.default.createDirectory(at: www, withIntermediateDirectories: true)
            try Data(count: Self.fileSize).write(to: www.appendingPathComponent("big.bin"))
        })
    }

    /// The server's send queue (bytes written and not yet acknowledged) once it stops
    /// growing, for a client that read the first bytes of a large file and then stopped.
    static func sendQueueOfStalledDownload(_ berth: BerthProcess) throws -> Int {
        let connection = try RawConnection(port: berth.port, receiveBuffer: 64 * 1024)
        try connection.send("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        try connection.waitForFirstBytes()
        var last = -1
        for _ in 0..<50 {
            Thread.sleep(forTimeInterval: 0.1)
            let queue = try #require(try Self.sendQueue(localPort: berth.port))
            if queue == last { break }
            last = queue
        }
        withExtendedLifetime(connection) {}
        return last
    }

    /// `tx_queue` of the established socket on `localPort`, from /proc/net/tcp.
    static func sendQueue(localPort: Int) throws -> Int? {
        // Read to its end: the table is longer than one read when many tests hold sockets.
        let file = try #require(FileHandle(forReadingAtPath: "/proc/net/tcp"))
        let table = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        try file.close()
        let port = String(format: "%04X", localPort)
        for line in table.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ")
            guard columns.count > 4, columns[1].hasSuffix(":" + port), columns[3] == "01" else { continue }
            return Int(columns[4].split(separator: ":")[0], radix: 16)
        }
        return nil
    }

    @Test func aStalledDownloadStaysInTheFile() throws {
        let berth = try Self.start(listenExtra: "")
        let queued = try Self.sendQueueOfStalledDownload(berth)
        // 16 KiB unsent by default, plus what the client's window and buffer let through.
        #expect(queued > 0 && queued < 512 * 1024, "send queue \(queued) bytes")
    }

    @Test func offLeavesTheKernelsQueue() throws {
        let berth = try Self.start(listenExtra: ", unsent_bytes: off")
        let queued = try Self.sendQueueOfStalledDownload(berth)
        #expect(queued > 1024 * 1024, "send queue \(queued) bytes")
    }

    @Test func aLargerBoundIsKept() throws {
        let berth = try Self.start(listenExtra: ", unsent_bytes: 1MiB")
        let queued = try Self.sendQueueOfStalledDownload(berth)
        // About the bound: the kernel stops taking bytes once the unsent ones reach it, so the
        // queue settles a segment either side of 1 MiB; far from the default's and from `off`'s.
        #expect(queued > 768 * 1024 && queued < 2 * 1024 * 1024, "send queue \(queued) bytes")
    }
}
