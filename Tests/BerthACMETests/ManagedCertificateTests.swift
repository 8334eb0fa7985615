import Foundation
import Testing

@testable import BerthACME

/// The pieces the coordinator keeps managed hosts with: placeholders and HTTP-01 files.
@Suite struct ManagedCertificateTests {
    func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-acme-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aPlaceholderCoversTheNamesForADayAndIsMadeAgainOnlyWhenDue() throws {
        let storage = CertificateStorage(root: try self.folder())
        let names = ["shop.test", "www.shop.test"]
        let now = Date()
        #expect(try PlaceholderCertificate.ensure(in: storage, name: "shop.test", names: names, now: now))
        let placeholder = try #require(try storage.certificate(name: "shop.test"))
        #expect(placeholder.covers(names) && placeholder.isUsable(for: names, at: now))
        // Certificate times have whole seconds: the end may round up past `now`'s fraction.
        #expect(placeholder.notAfter.timeIntervalSince(now) < PlaceholderCertificate.lifetime + 1)
        #expect(placeholder.leaf.subject.description.contains("Berth placeholder"))
        #expect(try !PlaceholderCertificate.ensure(in: storage, name: "shop.test", names: names, now: now))
        // Close to its end, or missing a name: a new one.
        #expect(try PlaceholderCertificate.ensure(in: storage, name: "shop.test", names: names, now: now.addingTimeInterval(20 * 3600)))
        #expect(try PlaceholderCertificate.ensure(in: storage, name: "shop.test", names: names + ["api.shop.test"]))
    }

    @Test func answersAreFilesNamedByTokenAndNothingElse() async throws {
        let responder = HTTP01ChallengeFolder(folder: try self.folder() + "/http-01")
        let answer = ChallengeAnswer.http01(name: "shop.test", token: "Tok_en-1", keyAuthorization: "Tok_en-1.print")
        try await responder.publish(answer)
        #expect(try String(contentsOfFile: responder.folder + "/Tok_en-1", encoding: .utf8) == "Tok_en-1.print")
        let attributes = try FileManager.default.attributesOfItem(atPath: responder.folder + "/Tok_en-1")
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        await responder.withdraw(answer)
        #expect(!FileManager.default.fileExists(atPath: responder.folder + "/Tok_en-1"))
        for token in ["../escape", "a/b", "", ".hidden", "tok en"] {
            await #expect(throws: ACMEError.self) {
                try await responder.publish(.http01(name: "shop.test", token: token, keyAuthorization: "x"))
            }
        }
        // Answers a killed coordinator left behind are cleared by the next one.
        try await responder.publish(answer)
        responder.removeStaleAnswers()
        #expect(try FileManager.default.contentsOfDirectory(atPath: responder.folder).isEmpty)
    }
}
