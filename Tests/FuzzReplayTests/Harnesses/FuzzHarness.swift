/// One parser's checks on one input. The same code runs under libFuzzer (`fuzz/run.sh` compiles
/// this folder into its fuzz binary) and as an ordinary test that replays every committed corpus
/// file (`FuzzReplayTests`), so a reproducer found by fuzzing stays a regression test.
struct FuzzHarness: Sendable {
    /// The corpus folder (`Corpus/<name>/`) and the name the fuzz binary is started by.
    let name: String
    let run: @Sendable (FuzzInput) -> Void
}

enum FuzzHarnesses {
    /// Adding a harness: its file in this folder, a line here, seed files in `Corpus/<name>/`
    /// and, if it tests a module `fuzz/run.sh` does not compile yet, that module in the script.
    static let all: [FuzzHarness] = [
        FuzzHarness(name: "http1", run: HTTP1RequestFuzz.run),
        FuzzHarness(name: "target", run: RequestTargetFuzz.run),
        FuzzHarness(name: "fields", run: StaticFieldsFuzz.run),
        FuzzHarness(name: "h2frames", run: HTTP2FramesFuzz.run),
        FuzzHarness(name: "hpack", run: HPACKFuzz.run),
    ]

    static func named(_ name: String) -> FuzzHarness? {
        self.all.first { $0.name == name }
    }
}

/// The bytes under test, and the way an invariant fails: a trap, which libFuzzer reports as a
/// crash and saves the input for, naming the broken invariant and showing the input.
struct FuzzInput {
    let bytes: [UInt8]

    var text: String { String(decoding: self.bytes, as: UTF8.self) }

    func require(
        _ condition: @autoclosure () -> Bool, _ invariant: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) {
        if !condition() {
            fatalError("invariant broken: \(invariant())\ninput: \(Self.escaped(self.bytes))", file: file, line: line)
        }
    }

    /// The input as a quoted string with non-printable bytes escaped, cut short if long.
    static func escaped(_ bytes: [UInt8], limit: Int = 600) -> String {
        var out = "\""
        for byte in bytes.prefix(limit) {
            switch byte {
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\t"): out += "\\t"
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            }
        }
        out += "\""
        if bytes.count > limit { out += " … (\(bytes.count) bytes)" }
        return out
    }
}
