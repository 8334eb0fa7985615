@testable import BerthACME
import Foundation
import Synchronization

/// A CA in a script: each request gets the next canned response, and every request is kept
/// for the test to inspect. No sockets.
final class ScriptedTransport: ACMETransport {
    private let state = Mutex<(responses: [ACMEHTTPResponse], requests: [ACMEHTTPRequest])>(([], []))

    init(_ responses: [ACMEHTTPResponse]) {
        state.withLock { $0.responses = responses }
    }

    var requests: [ACMEHTTPRequest] { state.withLock { $0.requests } }

    func send(_ request: ACMEHTTPRequest) async throws -> ACMEHTTPResponse {
        try state.withLock { state in
            state.requests.append(request)
            guard !state.responses.isEmpty else {
                throw ACMEError.transport(url: request.url, reason: "script exhausted")
            }
            return state.responses.removeFirst()
        }
    }

    /// The protected header and payload of a signed request, decoded.
    static func signed(_ request: ACMEHTTPRequest) throws -> (header: [String: Any], payload: [String: Any]?) {
        let jws = try JSONDecoder().decode(JSONWebSignature.self, from: Data(request.body))
        let header = try JSONSerialization.jsonObject(with: Data(Base64URL.decode(jws.protected)!)) as! [String: Any]
        let payload = jws.payload.isEmpty ? nil
            : try JSONSerialization.jsonObject(with: Data(Base64URL.decode(jws.payload)!)) as? [String: Any]
        return (header, payload)
    }
}

extension ACMEHTTPResponse {
    static func json(_ status: Int, _ body: String, nonce: String?, headers: [(name: String, value: String)] = [],
                     type: String = "application/json") -> ACMEHTTPResponse {
        var fields = headers + [(name: "Content-Type", value: type)]
        if let nonce { fields.append((name: "Replay-Nonce", value: nonce)) }
        return ACMEHTTPResponse(status: status, headers: fields, body: Array(body.utf8))
    }

    static func problem(_ status: Int, _ type: String, _ detail: String, nonce: String?) -> ACMEHTTPResponse {
        json(status, #"{"type":"urn:ietf:params:acme:error:\#(type)","detail":"\#(detail)","status":\#(status)}"#,
             nonce: nonce, type: "application/problem+json")
    }

    static let directory = json(200, """
        {"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/account","newOrder":"https://ca.test/order",
         "renewalInfo":"https://ca.test/ari","meta":{"termsOfService":"https://ca.test/tos"}}
        """, nonce: nil)

    static func nonce(_ value: String) -> ACMEHTTPResponse {
        ACMEHTTPResponse(status: 200, headers: [(name: "Replay-Nonce", value: value)])
    }
}
