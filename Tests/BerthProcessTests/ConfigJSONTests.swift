import BerthConfig
import BerthConfigFile
import BerthProcess
import Foundation
import Testing

/// Workers, the site check and the master get their configuration as JSON from another
/// process: it must arrive exactly as the file was read.
@Suite("Configurations handed between processes")
struct ConfigJSONTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theExampleConfigurationSurvivesTheTrip() throws {
        let config = try ConfigLoader.load(file: Self.repository.appendingPathComponent("conf/berth.yaml").path)
        let copy = try ConfigJSON.decode(ServerConfig.self, from: ConfigJSON.encode(config))
        #expect(copy == config)
        #expect(!copy.hosts.isEmpty && !copy.apps.isEmpty)
    }

    @Test func settingsKeepTheirTypesIncludingInfinities() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("berth-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data().write(to: folder.appendingPathComponent("libDemo.so"))
        let yaml = """
            listen: [{ address: 127.0.0.1, port: 0 }]
            drain_timeout: 1500ms
            apps:
              demo:
                library: libDemo.so
                timeout: 2.5s
                settings:
                  limit: 10
                  ratio: 0.25
                  big: 1e400
                  small: -1e400
                  dotted: .inf
                  flag: true
                  quoted: "10"
                  nothing: null
                  list: [1, two, { three: 3.0 }]
            hosts:
              a.test: { default: true, redirect: "https://b.test" }
            """
        let config = try ConfigLoader.parse(yaml: yaml, file: folder.appendingPathComponent("berth.yaml").path)
        let copy = try ConfigJSON.decode(ServerConfig.self, from: ConfigJSON.encode(config))
        guard case .dictionary(let settings) = try #require(copy.apps.first).settings,
              case .dictionary(let original) = try #require(config.apps.first).settings
        else { Issue.record("settings are not a mapping"); return }
        #expect(settings == original)
        #expect(settings["big"] == .double(.infinity) && settings["small"] == .double(-.infinity))
        #expect(settings["quoted"] == .string("10") && settings["limit"] == .int(10) && settings["dotted"] == .string(".inf"))
        #expect(copy.apps.first?.requestTimeout == .milliseconds(2500))
        #expect(copy.drainTimeout == config.drainTimeout)
        #expect(copy.hosts == config.hosts && copy.listeners == config.listeners)
    }

    @Test func aWorkerBriefIsOneLine() throws {
        let config = try ConfigLoader.load(file: Self.repository.appendingPathComponent("conf/berth.yaml").path)
        let brief = WorkerBrief(generation: 3, slot: 1, configFile: "conf/berth.yaml", config: config,
                                appLibraries: ["hello": "/x/libHello.so"], drainTimeoutSeconds: 2.5, reportsMetrics: true)
        let line = try brief.line()
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false)
        let read = try #require(WorkerBrief.decode(line: line.dropLast()))
        #expect(read.config == config && read.generation == 3 && read.slot == 1)
        #expect(read.appLibraries == ["hello": "/x/libHello.so"] && read.reportsMetrics)
    }
}
