internal import Yams
import BerthConfig

extension ConfigReader {
    static let redirectKeys = ["to", "status", "keep_path"]

    func readRedirect(_ node: Node, owner: String) -> RedirectConfig? {
        if node.scalar != nil {
            return redirectTarget(node).map { RedirectConfig(target: $0) }
        }
        let context = "in 'redirect' of \(owner)"
        guard let fields = fields(of: node, expected: "a redirect like { to: \"https://example.test\" }",
                                  context: context, allowed: ConfigReader.redirectKeys)
        else { return nil }
        var valid = true
        var redirect = RedirectConfig(target: "")
        if let target = required("to", in: fields, context: context, expected: "the URL to redirect to")
            .flatMap(redirectTarget) {
            redirect.target = target
        } else {
            valid = false
        }
        if let statusNode = fields["status"] {
            let allowed = RedirectConfig.allowedStatuses.map(String.init)
            let expected = "a redirect status (" + allowed.dropLast().joined(separator: ", ")
                + " or " + allowed.last! + ")"
            if let status = integer(statusNode, in: 0...999, expected: expected),
               RedirectConfig.allowedStatuses.contains(status) {
                redirect.status = status
            } else {
                if let status = Int(statusNode.scalar?.string ?? ""), (0...999).contains(status) {
                    error("expected \(expected), found \(status)", at: statusNode)
                }
                valid = false
            }
        }
        if let keepPath = fields["keep_path"] {
            if let value = bool(keepPath) { redirect.keepPath = value } else { valid = false }
        }
        return valid ? redirect : nil
    }

    /// An absolute http(s) URL, or a path on the same host. A bare `example.test` would be
    /// taken by browsers as a relative path, which is never what was meant.
    private func redirectTarget(_ node: Node) -> String? {
        let expected = "a URL like https://example.test/ or a path starting with '/'"
        guard let target = headerValue(node, expected: expected) else { return nil }
        let lowered = target.lowercased()
        let schemeLength = lowered.hasPrefix("https://") ? 8 : lowered.hasPrefix("http://") ? 7 : 0
        let hasHost = schemeLength > 0 && target.count > schemeLength
            && !target.dropFirst(schemeLength).hasPrefix("/")
        guard hasHost || (target.hasPrefix("/") && !target.hasPrefix("//")),
              !target.contains(where: \.isWhitespace)
        else {
            error("expected \(expected), found '\(target)'", at: node)
            return nil
        }
        return target
    }
}
