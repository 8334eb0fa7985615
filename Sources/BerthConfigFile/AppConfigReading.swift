internal import Yams
import BerthConfig

extension ConfigReader {
    static let appKeys = ["package", "product", "library", "settings", "timeout", "websocket"]
    static let webSocketKeys = ["max_message", "idle_timeout"]

    /// The valid apps, and the names of all apps written in the file, valid or not: a route
    /// naming an app that has errors of its own should not add an "unknown app" error.
    func readApps(_ node: Node) -> (apps: [AppConfig], declared: [String]) {
        guard let entries = entries(of: node, expected: "a mapping of app names to apps")
        else { return ([], []) }
        let apps = entries.compactMap(readApp)
        return (apps, entries.map(\.key))
    }

    private func readApp(_ entry: Entry) -> AppConfig? {
        let name = entry.key
        let context = "in app '\(name)'"
        var valid = ConfigReader.isValidAppName(name)
        if !valid {
            error("app name '\(name)' may contain only letters, digits, '-', '_' and '.'",
                  at: entry.keyNode)
        }
        guard let fields = fields(of: entry.value, expected: "a mapping with 'package' or 'library'",
                                  context: context, allowed: ConfigReader.appKeys)
        else { return nil }
        var source: AppSource?
        switch (fields.entry("package"), fields.entry("library")) {
        case (let package?, nil):
            let directory = self.directory(package.value, what: "package directory")
            if let directory, ConfigPath.kind(of: directory + "/Package.swift") != .file {
                error("package directory '\(directory)' has no Package.swift", at: package.value)
                valid = false
            }
            let product = required("product", in: fields, context: context,
                                   expected: "the name of the package's library product")
                .flatMap { string($0, expected: "a product name") }
            if let directory, let product { source = .package(directory: directory, product: product) }
        case (nil, let library?):
            if let product = fields.entry("product") {
                error("key 'product' goes with 'package', not with 'library'", at: product.keyNode)
                valid = false
            }
            source = file(library.value, what: "library").map { .library(path: $0) }
        case (_?, let library?):
            error("app '\(name)' has both 'package' and 'library'; keep one", at: library.keyNode)
        case (nil, nil):
            error("app '\(name)' needs 'package' (with 'product') or 'library'", at: fields.node)
        }
        var app = AppConfig(name: name, source: source ?? .library(path: "/"),
                            location: location(entry.keyNode))
        if let settings = fields["settings"] {
            if case .mapping = settings, let value = settingValue(settings) {
                app.settings = value
            } else if case .mapping = settings {
                valid = false
            } else {
                error("expected a mapping of settings, found \(kind(of: settings))", at: settings)
                valid = false
            }
        }
        if let timeout = fields["timeout"] {
            if let duration = duration(timeout) { app.requestTimeout = duration } else { valid = false }
        }
        if let webSocket = fields["websocket"] {
            if let value = readWebSocket(webSocket, context: "in the websocket settings of app '\(name)'") {
                app.webSocket = value
            } else {
                valid = false
            }
        }
        return valid && source != nil ? app : nil
    }

    /// `websocket: { max_message: 1MiB, idle_timeout: 60s }`; nil after an error.
    private func readWebSocket(_ node: Node, context: String) -> WebSocketConfig? {
        guard let fields = fields(of: node, expected: "a mapping with 'max_message' and 'idle_timeout'",
                                  context: context, allowed: ConfigReader.webSocketKeys)
        else { return nil }
        var config = WebSocketConfig()
        var valid = true
        if let node = fields["max_message"] {
            if let bytes = size(node, minimum: 1) {
                if bytes > WebSocketConfig.maxMessageLimit {
                    error("max_message may be at most 1GiB, found \(bytes) bytes", at: node)
                    valid = false
                } else {
                    config.maxMessage = bytes
                }
            } else {
                valid = false
            }
        }
        if let node = fields["idle_timeout"] {
            if let duration = duration(node) { config.idleTimeout = duration } else { valid = false }
        }
        return valid ? config : nil
    }

    static func isValidAppName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// Any YAML value as a setting; only mapping keys that are not scalars are refused.
    private func settingValue(_ node: Node) -> SettingValue? {
        switch node {
        case .mapping:
            guard let entries = entries(of: node, expected: "a mapping") else { return nil }
            var dictionary: [String: SettingValue] = [:]
            for entry in entries {
                guard let value = settingValue(entry.value) else { return nil }
                dictionary[entry.key] = value
            }
            return .dictionary(dictionary)
        case .sequence(let list):
            var values: [SettingValue] = []
            for item in list {
                guard let value = settingValue(item) else { return nil }
                values.append(value)
            }
            return .array(values)
        case .scalar(let scalar):
            guard scalar.style == .plain else { return .string(scalar.string) }
            if ConfigReader.isNull(node) { return .null }
            switch scalar.string {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if let int = Int(scalar.string) { return .int(int) }
            if scalar.string.contains(where: \.isNumber), let double = Double(scalar.string) {
                return .double(double)
            }
            return .string(scalar.string)
        case .alias:
            // The parser resolves aliases to the nodes they name, so this is never reached.
            error("expected a setting value, found an alias", at: node)
            return nil
        }
    }
}
