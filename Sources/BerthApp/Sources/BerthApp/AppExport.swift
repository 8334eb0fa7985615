/// Makes the value an app's entry point returns. Write this one line in the app:
///
/// ```swift
/// @_cdecl("berth_app_entry") public func berthAppEntry() -> UnsafeMutableRawPointer { exportApp(NotesApp.self) }
/// ```
///
/// The body is compiled into the app, not called in the server's copy of this library, so the
/// stamp it records (API version and compiler) is the one the app was built with. The result is
/// a plain memory record the server reads before it trusts any Swift type in the app.
@_alwaysEmitIntoClient
public func exportApp<A: App>(_ type: A.Type) -> UnsafeMutableRawPointer {
    EntryRecordFormat.make(for: type, apiVersion: EntryRecordFormat.apiVersionOfThisBuild,
                           compiler: EntryRecordFormat.compilerOfThisBuild)
}

/// Exports an app with a stamp of the caller's choosing, to test how the server refuses one
/// built by another toolchain.
@_spi(BerthTesting) @_alwaysEmitIntoClient
public func exportApp<A: App>(_ type: A.Type, apiVersion: Int, compiler: StaticString) -> UnsafeMutableRawPointer {
    EntryRecordFormat.make(for: type, apiVersion: apiVersion, compiler: compiler)
}

/// The ABI stamp: which API version and which compiler built a piece of code.
///
/// An app is trusted when its compiler is exactly the server's (Swift has no stable ABI on
/// Linux) and its API version is one the server still serves (library evolution keeps older
/// apps working when the API grows).
@_spi(BerthServer)
public struct AppStamp: Sendable, Equatable, CustomStringConvertible {
    /// The API version the code was built against.
    public let apiVersion: Int
    /// The compiler version, as `swift --version` prints it (`6.3.1`).
    public let compiler: String

    /// A stamp from its parts.
    public init(apiVersion: Int, compiler: String) {
        self.apiVersion = apiVersion
        self.compiler = compiler
    }

    /// The stamp of the running server: its copy of this library and the compiler that built it.
    public static var server: AppStamp {
        AppStamp(apiVersion: EntryRecordFormat.apiVersionOfThisBuild,
                 compiler: EntryRecordFormat.compilerOfThisBuild.description)
    }

    /// The oldest API version this library still serves.
    public static let oldestServedAPIVersion = 1

    /// Whether the server (self) can run an app stamped `app`.
    public func accepts(_ app: AppStamp) -> Bool {
        app.compiler == compiler && (Self.oldestServedAPIVersion...apiVersion).contains(app.apiVersion)
    }

    /// `"BerthApp API 1 with Swift 6.3.1"`.
    public var description: String { "BerthApp API \(apiVersion) with Swift \(compiler)" }
}

/// The record `exportApp` returns; its pieces are compiled into each app.
@usableFromInline
enum EntryRecordFormat {
    /// Raised whenever the API changes: a new public declaration, a new stored property.
    @usableFromInline @_alwaysEmitIntoClient
    static var apiVersionOfThisBuild: Int { 4 }

    /// "BerthApp" in ASCII, read as a little-endian UInt64: marks a record made by `exportApp`.
    @usableFromInline @_alwaysEmitIntoClient
    static var recordMagic: UInt64 { 0x7070_4168_7472_6542 }

    /// Record layout: magic (u64) · layout version (u32) · API version (u32) · compiler name
    /// length (u64) · compiler name pointer · app type metadata pointer. Only stdlib memory
    /// calls, so reading it needs no agreement on Swift's ABI.
    @usableFromInline @_alwaysEmitIntoClient
    static func make<A: App>(for type: A.Type, apiVersion: Int, compiler: StaticString) -> UnsafeMutableRawPointer {
        let record = UnsafeMutableRawPointer.allocate(byteCount: 40, alignment: 8)
        record.storeBytes(of: recordMagic, toByteOffset: 0, as: UInt64.self)
        record.storeBytes(of: 1, toByteOffset: 8, as: UInt32.self)
        record.storeBytes(of: UInt32(truncatingIfNeeded: apiVersion), toByteOffset: 12, as: UInt32.self)
        record.storeBytes(of: UInt64(compiler.utf8CodeUnitCount), toByteOffset: 16, as: UInt64.self)
        record.storeBytes(of: UnsafeRawPointer(compiler.utf8Start), toByteOffset: 24, as: UnsafeRawPointer.self)
        record.storeBytes(of: unsafeBitCast(type as Any.Type, to: UnsafeRawPointer.self),
                          toByteOffset: 32, as: UnsafeRawPointer.self)
        return record
    }
}

/// What an app's `berth_app_entry` returned, read without trusting it.
@_spi(BerthServer)
public struct AppEntryRecord: @unchecked Sendable {
    /// Why a pointer is not a record `exportApp` made.
    public enum Problem: Error, Sendable, CustomStringConvertible {
        /// The magic number is wrong: the entry point is not `exportApp`'s.
        case notARecord
        /// Made by a newer `exportApp` whose layout this server does not know.
        case unknownLayout(UInt32)

        /// A sentence for error messages.
        public var description: String {
            switch self {
            case .notARecord: return "its berth_app_entry did not return a value made by exportApp"
            case .unknownLayout(let version): return "its entry record has layout \(version), newer than this server knows"
            }
        }
    }

    /// Name of the nominal type descriptor of ``Request``: looking it up in an app's library
    /// and in the whole process tells whether the app uses the process's copy of this library.
    public static let identitySymbol = "$s8BerthApp7RequestVMn"

    /// The app's stamp.
    public let stamp: AppStamp
    private let metadata: UnsafeRawPointer

    /// Reads the record at `pointer`.
    public init(reading pointer: UnsafeRawPointer) throws(Problem) {
        guard pointer.load(fromByteOffset: 0, as: UInt64.self) == EntryRecordFormat.recordMagic else {
            throw .notARecord
        }
        let layout = pointer.load(fromByteOffset: 8, as: UInt32.self)
        guard layout == 1 else { throw .unknownLayout(layout) }
        let apiVersion = Int(pointer.load(fromByteOffset: 12, as: UInt32.self))
        let length = Int(min(pointer.load(fromByteOffset: 16, as: UInt64.self), 256))
        let name = pointer.load(fromByteOffset: 24, as: UnsafePointer<UInt8>.self)
        let compiler = String(decoding: UnsafeBufferPointer(start: name, count: length), as: UTF8.self)
        stamp = AppStamp(apiVersion: apiVersion, compiler: compiler)
        metadata = pointer.load(fromByteOffset: 32, as: UnsafeRawPointer.self)
    }

    /// The app's type. Call only once the stamp is accepted and the library shares this
    /// process's copy of the API; nil when the type does not conform to ``App`` here.
    public func appType() -> (any App.Type)? {
        unsafeBitCast(metadata, to: Any.Type.self) as? any App.Type
    }

    /// The app type's full name, e.g. `NotesApp.NotesApp`.
    public func typeName() -> String? {
        appType().map { String(reflecting: $0) }
    }
}
