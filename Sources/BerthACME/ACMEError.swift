/// Why getting a certificate failed, in words that say what the CA or the network did. The
/// CA's problem document (RFC 7807) is kept whole wherever there is one.
public enum ACMEError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The CA answered a request with a problem document.
    case problem(ACMEProblem, url: String)
    /// The CA answered with something that is neither the resource asked for nor a problem.
    case unexpectedResponse(status: Int, url: String, detail: String)
    /// The request never got an answer: connection, TLS or timeout.
    case transport(url: String, reason: String)
    /// A challenge was validated and failed: the CA could not see the answer.
    case challengeFailed(name: String, type: ACMEChallengeType, ACMEProblem?)
    /// The CA offered no challenge this server can answer for a name.
    case noUsableChallenge(name: String, offered: [String])
    /// An authorization or order ended in a status other than the one needed.
    case orderFailed(status: ACMEStatus, ACMEProblem?)
    /// Polling a resource outlasted its deadline.
    case timedOut(what: String)
    /// The certificate the CA delivered does not do what was ordered.
    case badCertificate(String)
    /// Reading or writing the storage directory failed.
    case storage(path: String, reason: String)

    public var description: String {
        switch self {
        case .problem(let problem, let url):
            return "the CA refused \(url): \(problem)"
        case .unexpectedResponse(let status, let url, let detail):
            return "unexpected answer \(status) from \(url): \(detail)"
        case .transport(let url, let reason):
            return "no answer from \(url): \(reason)"
        case .challengeFailed(let name, let type, let problem):
            return "\(type.rawValue) validation of '\(name)' failed"
                + (problem.map { ": \($0)" } ?? "")
        case .noUsableChallenge(let name, let offered):
            return "the CA offers no challenge berth can answer for '\(name)' (offered: "
                + "\(offered.joined(separator: ", ")))"
        case .orderFailed(let status, let problem):
            return "the order ended \(status.rawValue)" + (problem.map { ": \($0)" } ?? "")
        case .timedOut(let what):
            return "gave up waiting for \(what)"
        case .badCertificate(let reason):
            return "the CA's certificate is unusable: \(reason)"
        case .storage(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}
