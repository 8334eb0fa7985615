import BerthConfig
import BerthConfigFile
import Foundation

/// A throwaway folder holding a config file and the directories it names, removed on deinit.
final class TemporarySite {
    /// Absolute and free of symlinks, so expected paths can be written from it directly.
    let path: String

    init() throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath()
        let url = base.appendingPathComponent("berth-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Creates the folders (relative to the site), with parents.
    func directories(_ names: String...) throws {
        for name in names {
            try FileManager.default.createDirectory(atPath: path + "/" + name,
                                                    withIntermediateDirectories: true)
        }
    }

    /// Creates files (relative to the site) with a little content, and their folders.
    func files(_ names: String...) throws {
        for name in names {
            let file = path + "/" + name
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data("content of \(name)\n".utf8).write(to: URL(fileURLWithPath: file))
        }
    }

    /// Writes `yaml` as `name` in the site and loads it.
    func load(_ yaml: String, name: String = "berth.yaml") throws -> ServerConfig {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: file))
        return try ConfigLoader.load(file: file)
    }

    /// The messages of the errors that loading `yaml` throws, with the site's path as `SITE`.
    func errors(_ yaml: String) throws -> [String] {
        do {
            _ = try load(yaml)
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map { $0.message.replacingOccurrences(of: path, with: "SITE") }
        }
    }

    func location(_ line: Int, _ column: Int, in name: String = "berth.yaml") -> SourceLocation {
        SourceLocation(file: path + "/" + name, line: line, column: column)
    }
}
