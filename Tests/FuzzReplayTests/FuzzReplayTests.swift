import Foundation
import Testing

/// Every file under `Corpus/<harness>/` through its harness: the seeds written by hand, what
/// fuzzing found worth keeping, and the reproducer of every bug it found. A broken invariant
/// traps, naming it and the input.
@Suite("Fuzz corpora replayed")
struct FuzzReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    static func files(of harness: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(
            at: Self.corpus.appendingPathComponent(harness), includingPropertiesForKeys: nil
        ).sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzHarnesses.all.map(\.name))
    func replay(harness name: String) throws {
        let harness = try #require(FuzzHarnesses.named(name))
        let files = try Self.files(of: name)
        #expect(!files.isEmpty, "Corpus/\(name) has no seeds")
        for file in files {
            harness.run(FuzzInput(bytes: Array(try Data(contentsOf: file))))
        }
    }

    /// fuzz/run.sh builds one fuzzer per corpus folder: each must name a harness.
    @Test func everyCorpusHasItsHarness() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") }
        #expect(Set(folders) == Set(FuzzHarnesses.all.map(\.name)))
    }
}
