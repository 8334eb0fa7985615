import BerthConfig
import NIOHTTP1
import Testing

@testable import BerthServer

@Suite("RFC 9112 framing rules on parsed heads")
struct RequestHeadCheckTests {
    let limits = ConnectionLimits(Limits())

    func check(_ headers: [(String, String)], uri: String = "/", version: HTTPVersion = .http1_1) -> Result<RequestHeadCheck.Accepted, RequestHeadCheck.Rejected> {
        RequestHeadCheck.check(HTTPRequestHead(version: version, method: .POST, uri: uri, headers: HTTPHeaders(headers)), limits: self.limits)
    }

    func status(_ result: Result<RequestHeadCheck.Accepted, RequestHeadCheck.Rejected>) -> Int? {
        if case .failure(let rejected) = result { return Int(rejected.status.code) }
        return nil
    }

    @Test func hostRules() {
        #expect(status(check([])) == 400)
        #expect(status(check([], version: .http1_0)) == nil)
        #expect(status(check([("Host", "a"), ("Host", "b")])) == 400)
        #expect(status(check([("Host", "a/b")])) == 400)
        #expect(status(check([("Host", "[::1]:8080")])) == nil)
    }

    @Test func framingRules() {
        #expect(status(check([("Host", "a"), ("Content-Length", "3"), ("Transfer-Encoding", "chunked")])) == 400)
        #expect(status(check([("Host", "a"), ("Content-Length", "3"), ("Content-Length", "3")])) == 400)
        #expect(status(check([("Host", "a"), ("Content-Length", "+3")])) == 400)
        #expect(status(check([("Host", "a"), ("Transfer-Encoding", "gzip, chunked")])) == 501)
        #expect(status(check([("Transfer-Encoding", "chunked")], version: .http1_0)) == 400)
        #expect(status(check([("Host", "a"), ("Content-Length", "\(11 * 1024 * 1024)")])) == 413)
        guard case .success(let accepted) = check([("Host", "a"), ("Content-Length", "3"), ("Expect", "100-continue")]) else {
            Issue.record("rejected")
            return
        }
        #expect(accepted.expectsBody && accepted.expectsContinue)
        #expect(status(check([("Host", "a"), ("Expect", "tea")])) == 417)
    }

    @Test func targetRules() {
        #expect(status(check([("Host", "a")], uri: String(repeating: "/a", count: 5000))) == 414)
        #expect(status(check([("Host", "a")], uri: "/%00")) == 400)
        guard case .success(let accepted) = check([("Host", "a")], uri: "http://Other.test:81/x?y") else {
            Issue.record("rejected")
            return
        }
        #expect(accepted.authority == "Other.test:81")
        #expect(accepted.target.path == "/x")
    }
}
