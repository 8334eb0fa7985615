@testable import BerthACME
import Foundation
import Logging
import Testing

/// The client against a scripted CA: which key form each request is signed with, which nonce
/// it carries, and what a refusal looks like. No sockets.
@Suite struct ACMEClientTests {
    let logger = Logger(label: "test.acme")

    @Test func anUnknownKeyCreatesAnAccountThenSignsWithItsURL() async throws {
        let transport = ScriptedTransport([
            .directory,
            .nonce("n1"),
            .problem(400, "accountDoesNotExist", "no account for this key", nonce: "n2"),
            .json(201, #"{"status":"valid","contact":["mailto:a@b.test"]}"#, nonce: "n3",
                  headers: [(name: "Location", value: "https://ca.test/acct/1")]),
            .json(201, """
                {"status":"pending","identifiers":[{"type":"dns","value":"a.test"}],
                 "authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/finalize/1"}
                """, nonce: "n4", headers: [(name: "Location", value: "https://ca.test/order/1")]),
        ])
        let client = ACMEClient(directoryURL: "https://ca.test/dir", accountKey: AccountKey(),
                                transport: transport, logger: logger)
        let url = try await client.account(contact: ["mailto:a@b.test"])
        #expect(url == "https://ca.test/acct/1")
        let (orderURL, order) = try await client.newOrder(names: ["a.test"])
        #expect(orderURL == "https://ca.test/order/1")
        #expect(order.authorizations == ["https://ca.test/authz/1"])

        let requests = transport.requests
        #expect(requests.map(\.method) == ["GET", "HEAD", "POST", "POST", "POST"])
        // §7.3.1: look the key up first, without creating anything.
        let lookup = try ScriptedTransport.signed(requests[2])
        #expect(lookup.payload?["onlyReturnExisting"] as? Bool == true)
        #expect(lookup.header["jwk"] != nil && lookup.header["kid"] == nil)
        #expect(lookup.header["nonce"] as? String == "n1")
        // Then create it, agreeing to the terms, still with the key itself.
        let create = try ScriptedTransport.signed(requests[3])
        #expect(create.payload?["termsOfServiceAgreed"] as? Bool == true)
        #expect(create.payload?["contact"] as? [String] == ["mailto:a@b.test"])
        #expect(create.header["jwk"] != nil)
        #expect(create.header["nonce"] as? String == "n2")  // the nonce the error carried
        // Every later request names the account (§6.2).
        let newOrder = try ScriptedTransport.signed(requests[4])
        #expect(newOrder.header["kid"] as? String == "https://ca.test/acct/1")
        #expect(newOrder.header["jwk"] == nil)
        #expect((newOrder.payload?["identifiers"] as? [[String: String]]) == [["type": "dns", "value": "a.test"]])
        #expect(requests[4].headers.contains { $0.name == "Content-Type" && $0.value == "application/jose+json" })
    }

    @Test func aKnownKeyFindsItsAccountWithoutCreatingOne() async throws {
        let transport = ScriptedTransport([
            .directory, .nonce("n1"),
            .json(200, #"{"status":"valid"}"#, nonce: "n2", headers: [(name: "Location", value: "https://ca.test/acct/9")]),
        ])
        let client = ACMEClient(directoryURL: "https://ca.test/dir", accountKey: AccountKey(),
                                transport: transport, logger: logger)
        #expect(try await client.account(contact: []) == "https://ca.test/acct/9")
        #expect(transport.requests.count == 3)
    }

    /// RFC 8555 §6.5: a badNonce answer is retried with the nonce it carried.
    /// A challenge post whose answer was lost may have been taken: the repeat is refused as
    /// the challenge is no longer pending, and the challenge's own status then decides.
    @Test func aChallengeAnsweredAlreadyIsNotAnError() async throws {
        let challenge = ACMEChallenge(type: "http-01", url: "https://ca.test/chall/1", status: .pending, token: "t", error: nil)
        func client(_ responses: [ACMEHTTPResponse]) async -> (ACMEClient, ScriptedTransport) {
            let transport = ScriptedTransport([.directory, .nonce("n1")] + responses)
            let client = ACMEClient(directoryURL: "https://ca.test/dir", accountKey: AccountKey(), transport: transport, logger: logger)
            await client.useAccount(url: "https://ca.test/acct/1")
            return (client, transport)
        }
        let refused = ACMEHTTPResponse.problem(400, "malformed", "Cannot update challenge with status valid, only status pending", nonce: "n2")
        let (taken, takenTransport) = await client([
            refused, .json(200, #"{"type":"http-01","url":"https://ca.test/chall/1","status":"valid","token":"t"}"#, nonce: "n3"),
        ])
        try await taken.respond(to: challenge)
        // The refused post, then the challenge read with POST-as-GET (an empty payload).
        let reads = takenTransport.requests.filter { $0.method == "POST" }
        #expect(reads.count == 2 && reads.allSatisfy { $0.url == challenge.url })
        #expect(try ScriptedTransport.signed(reads[1]).payload == nil)

        // Still pending (or gone wrong): the refusal stands.
        let (pending, _) = await client([
            refused, .json(200, #"{"type":"http-01","url":"https://ca.test/chall/1","status":"pending","token":"t"}"#, nonce: "n3"),
        ])
        await #expect(throws: ACMEError.self) { try await pending.respond(to: challenge) }
    }

    /// RFC 8555 §7.4: a finalize whose answer was lost may have been taken; the repeat is
    /// refused with orderNotReady, and the order as the CA has it decides.
    @Test func aFinalizeTakenAlreadyIsNotAnError() async throws {
        let order = try JSONDecoder().decode(ACMEOrder.self, from: Data("""
            {"status":"ready","identifiers":[{"type":"dns","value":"a.test"}],
             "authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/finalize/1"}
            """.utf8))
        func client(_ responses: [ACMEHTTPResponse]) async -> (ACMEClient, ScriptedTransport) {
            let transport = ScriptedTransport([.directory, .nonce("n1")] + responses)
            let client = ACMEClient(directoryURL: "https://ca.test/dir", accountKey: AccountKey(), transport: transport, logger: logger)
            await client.useAccount(url: "https://ca.test/acct/1")
            return (client, transport)
        }
        let refused = ACMEHTTPResponse.problem(403, "orderNotReady", #"Order's status (\"valid\") was not ready"#, nonce: "n2")
        func orderNow(_ status: String) -> ACMEHTTPResponse {
            .json(200, """
                {"status":"\(status)","identifiers":[{"type":"dns","value":"a.test"}],"authorizations":["https://ca.test/authz/1"],
                 "finalize":"https://ca.test/finalize/1","certificate":"https://ca.test/cert/1"}
                """, nonce: "n3")
        }
        let (taken, takenTransport) = await client([refused, orderNow("valid")])
        let finalized = try await taken.finalize(order, url: "https://ca.test/order/1", csrDER: [1, 2, 3], deadline: .seconds(5))
        #expect(finalized.status == .valid)
        #expect(finalized.certificate == "https://ca.test/cert/1")
        // The refused finalize, then the order read with POST-as-GET.
        let posts = takenTransport.requests.filter { $0.method == "POST" }
        #expect(posts.map(\.url) == ["https://ca.test/finalize/1", "https://ca.test/order/1"])
        #expect(try ScriptedTransport.signed(posts[1]).payload == nil)

        // An order that is not being issued (still ready, say): the refusal stands.
        let (notTaken, _) = await client([refused, orderNow("ready")])
        await #expect(throws: ACMEError.self) {
            _ = try await notTaken.finalize(order, url: "https://ca.test/order/1", csrDER: [1, 2, 3], deadline: .seconds(5))
        }
    }

    @Test func badNonceIsRetriedWithTheFreshNonce() async throws {
        let transport = ScriptedTransport([
            .directory, .nonce("stale"),
            .problem(400, "badNonce", "JWS has an invalid anti-replay nonce", nonce: "fresh"),
            .json(200, #"{"status":"valid"}"#, nonce: "next", headers: [(name: "Location", value: "https://ca.test/acct/2")]),
        ])
        let client = ACMEClient(directoryURL: "https://ca.test/dir", accountKey: AccountKey(),
                                transport: transport, logger: logger)
        _ = try await client.account(contact: [])
        let nonces = try transport.requests.dropFirst(2).map { try ScriptedTransport.signed($0).header["nonce"] as? String }
        #expect(nonces == ["stale", "fresh"])
    }

    @Test func badNonceRetriesAreBounded() async throws {
        var script: [ACMEHTTPResponse] = [.directory, .nonce("n0")]
        for index in 1...(ACMEClient.badNonceRetries + 1) {
            script.append(.problem(400, "badNonce", "again", nonce: "n\(index)"))
        }
        let client = ACMEClient(directoryURL: "https://ca.test/dir", accountKey: AccountKey(),
                                transport: ScriptedTransport(script), logger: logger)
        await #expect(throws: ACMEError.self) { try await client.account(contact: []) }
    }

    /// A refusal carries the CA's problem document (RFC 7807) to the log line.
    @Test func problemDocumentsReachTheError() async throws {
        let transport = ScriptedTransport([
            .directory, .nonce("n1"),
            .problem(429, "rateLimited", "too many certificates already issued for this name", nonce: "n2"),
        ])
        let client = ACMEClient(directoryURL: "https://ca.test/dir", accountKey: AccountKey(),
                                transport: transport, logger: logger)
        do {
            _ = try await client.account(contact: [])
            Issue.record("expected a refusal")
        } catch let error as ACMEError {
            guard case .problem(let problem, let url) = error else { Issue.record("\(error)"); return }
            #expect(problem.acmeErrorName == "rateLimited")
            #expect(problem.status == 429)
            #expect(url == "https://ca.test/account")
            #expect(error.description == "the CA refused https://ca.test/account: urn:ietf:params:acme:error:"
                    + "rateLimited: too many certificates already issued for this name")
        }
    }

    @Test func subproblemsNameTheirIdentifiers() throws {
        let json = """
            {"type":"urn:ietf:params:acme:error:malformed","detail":"some names were refused","subproblems":[
             {"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"forbidden",
              "identifier":{"type":"dns","value":"bad.test"}}]}
            """
        let problem = try JSONDecoder().decode(ACMEProblem.self, from: Data(json.utf8))
        #expect(problem.description == "urn:ietf:params:acme:error:malformed: some names were refused; "
                + "bad.test: urn:ietf:params:acme:error:rejectedIdentifier: forbidden")
    }

    @Test func retryAfterReadsSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:50:37 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse(nil, now: now) == nil)
    }
}
