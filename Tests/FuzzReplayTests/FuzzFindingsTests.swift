import BerthConfig
import NIOHTTP1
import Testing

@testable import BerthServer
@testable import BerthStatic

/// What fuzzing found, as plain tests of the rule each finding broke. The inputs themselves
/// stay in the corpus, where the harnesses replay them.
@Suite("Rules fuzzing found broken")
struct FuzzFindingsTests {
    static func head(transferEncodings: [String]) -> HTTPRequestHead {
        var headers = HTTPHeaders([("Host", "x")])
        for value in transferEncodings { headers.add(name: "Transfer-Encoding", value: value) }
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: headers)
    }

    /// Corpus/http1/smuggle-te-list, smuggle-te-unicode-case: the head check accepted
    /// Transfer-Encoding values the parser does not frame a body by, so the request waited for
    /// a body the parser would never deliver.
    @Test(arguments: [[",chunked"], ["chunked", ""], ["chunked, "], ["chun\u{212A}ed"], ["chunked", "chunked"]])
    func transferEncodingTheParserDoesNotFollowIsRefused(_ values: [String]) throws {
        let head = Self.head(transferEncodings: values)
        let serialized = HTTP1RequestFuzz.serialize(head)
        let (_, framing) = try #require(HTTP1RequestFuzz.parseHead(serialized))
        #expect(framing == .unusable)
        guard case .failure(let rejected) = RequestHeadCheck.check(head, limits: ConnectionLimits(Limits())) else {
            Issue.record("Transfer-Encoding \(values) accepted")
            return
        }
        #expect(rejected.status == .notImplemented && rejected.mustClose)
    }

    @Test(arguments: ["chunked", "Chunked", " CHUNKED\t"])
    func chunkedInAnyCaseIsAccepted(_ value: String) throws {
        let head = Self.head(transferEncodings: [value])
        let (_, framing) = try #require(HTTP1RequestFuzz.parseHead(HTTP1RequestFuzz.serialize(head)))
        #expect(framing == .chunked)
        guard case .success(let accepted) = RequestHeadCheck.check(head, limits: ConnectionLimits(Limits())) else {
            Issue.record("Transfer-Encoding \(value) refused")
            return
        }
        #expect(accepted.expectsBody)
    }

    /// Corpus/fields/ae-combining-mark: a q-value digit followed by a combining mark passed the
    /// digit check and crashed the force-unwrapped `Int(_:)` after it, taking down the worker
    /// for any request to a site serving precompressed files.
    @Test func qValueWithACombiningMarkIsInvalid() {
        #expect(AcceptEncoding.parseQuality("0.1\u{301}") == nil)
        #expect(AcceptEncoding.preferredCodings("gzip;q=0.1\u{301}, br") == [.brotli])
        #expect(!Character("1\u{301}").isASCIIDigit && Character("7").isASCIIDigit)
    }

    /// Corpus/target/html-quote-combining-mark: escaping went by Character, and a quote or
    /// angle bracket followed by a combining mark is a Character of its own, so it was left as
    /// it was. A browser ends a quoted attribute at that quote all the same.
    @Test func markupFollowedByACombiningMarkIsEscaped() {
        #expect(HTMLEscaping.escape("a\"\u{301}b'\u{301}<\u{338}&\u{301}") == "a&quot;\u{301}b&#39;\u{301}&lt;\u{338}&amp;\u{301}")
    }
}
