internal import Yams
import BerthConfig

extension ConfigReader {
    static let logKeys = ["access", "format", "error"]

    func readLogs(_ node: Node) -> LogConfig {
        var logs = LogConfig()
        guard let fields = fields(of: node, expected: "a mapping of logs", context: "in 'logs'",
                                  allowed: ConfigReader.logKeys)
        else { return logs }
        if let access = fields["access"] { logs.access = logDestination(access) ?? logs.access }
        if let error = fields["error"] { logs.error = logDestination(error) ?? logs.error }
        if let format = fields["format"],
           let name = choice(format, from: AccessLogFormat.allCases.map(\.rawValue)) {
            logs.format = AccessLogFormat(rawValue: name)!
        }
        return logs
    }

    /// A log destination; a file's folder must exist, since the server does not create
    /// folders and would otherwise fail at start, after the config was declared good.
    func logDestination(_ node: Node) -> LogDestination? {
        guard let text = string(node, expected: "'-', 'stderr', 'off' or a log file path")
        else { return nil }
        switch text {
        case "-", "stdout": return .standardOutput
        case "stderr": return .standardError
        case "off": return .off
        default:
            let path = ConfigPath.resolve(text, against: baseDirectory)
            let folder = ConfigPath.folder(of: path)
            switch ConfigPath.kind(of: folder) {
            case .directory: break
            case .missing:
                error("log folder '\(folder)' does not exist; create it or log to '-'", at: node)
                return nil
            case .file, .other:
                error("log folder '\(folder)' is not a directory", at: node)
                return nil
            }
            if ConfigPath.kind(of: path) == .directory {
                error("log file '\(path)' is a directory", at: node)
                return nil
            }
            return .file(path)
        }
    }
}
