@_spi(BerthServer) import BerthApp
import BerthPlugins

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An app library opened with `dlopen` and checked: the same steps run in the probe process
/// (where a crash is harmless) and then in the worker.
struct AppImage: @unchecked Sendable {
    /// Why an opened library cannot be trusted.
    enum Refusal: Error, Equatable {
        case cannotOpen(String)
        case missingEntry
        case invalidEntry(String)
        case stampMismatch(app: AppStamp)
        case notLinkedToAPI
        case ownAPICopy
        case notAnApp
    }

    /// The exported app type, usable only because every check passed.
    let appType: any App.Type
    /// The stamp the app was built with.
    let stamp: AppStamp

    /// The symbol every app exports (`exportApp` writes the record it returns).
    static let entrySymbol = "berth_app_entry"

    /// Opens `path` and checks it. `keepLoaded` adds `RTLD_NODELETE`: a Swift library must
    /// never be unloaded once its types were used (the next cast would crash), and the handle
    /// is deliberately never closed.
    static func open(_ path: String, keepLoaded: Bool) -> Result<AppImage, Refusal> {
        // RTLD_LOCAL: two apps may define the same symbols (both a `HelloApp.HelloApp`);
        // RTLD_NOW: a missing symbol is reported here, not in the middle of a request.
        let flags = RTLD_NOW | RTLD_LOCAL | (keepLoaded ? RTLD_NODELETE : 0)
        guard let handle = dlopen(path, flags) else {
            return .failure(.cannotOpen(dlerror().map { String(cString: $0) } ?? "unknown dlopen error"))
        }
        guard let entrySymbol = dlsym(handle, entrySymbol) else {
            return .failure(.missingEntry)
        }
        typealias Entry = @convention(c) () -> UnsafeMutableRawPointer?
        let entry = unsafeBitCast(entrySymbol, to: Entry.self)
        guard let pointer = entry() else {
            return .failure(.invalidEntry("its berth_app_entry returned a null pointer"))
        }
        let record: AppEntryRecord
        do {
            record = try AppEntryRecord(reading: pointer)
        } catch {
            return .failure(.invalidEntry(error.description))
        }
        pointer.deallocate()
        guard AppStamp.server.accepts(record.stamp) else {
            return .failure(.stampMismatch(app: record.stamp))
        }
        // The app must bind to the process's copy of BerthApp: a second copy has its own type
        // metadata, so casts between the two fail silently and shared state splits in two.
        let ours = dlsym(nil, AppEntryRecord.identitySymbol)
        guard let theirs = dlsym(handle, AppEntryRecord.identitySymbol) else {
            return .failure(.notLinkedToAPI)
        }
        guard theirs == ours else { return .failure(.ownAPICopy) }
        guard let type = record.appType() else { return .failure(.notAnApp) }
        return .success(AppImage(appType: type, stamp: record.stamp))
    }
}

extension AppImage.Refusal {
    /// The public reason for this refusal.
    var reason: AppLoadError.Reason {
        switch self {
        case .cannotOpen(let why): return .cannotOpen(why)
        case .missingEntry: return .missingEntry
        case .invalidEntry(let what): return .invalidEntry(what)
        case .stampMismatch(let app):
            return .stampMismatch(app: "BerthApp API \(app.apiVersion) with Swift \(app.compiler)",
                                  server: AppStamp.server.accepted)
        case .notLinkedToAPI: return .notLinkedToAPI
        case .ownAPICopy: return .ownAPICopy
        case .notAnApp: return .notAnApp
        }
    }
}
