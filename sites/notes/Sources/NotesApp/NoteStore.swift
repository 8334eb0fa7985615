import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One note.
struct Note: Codable, Sendable {
    let id: Int
    let text: String
    let created: Date
}

/// The notes file: every note and the next id to hand out (ids are never reused).
private struct NotesFile: Codable {
    var nextID = 1
    var notes: [Note] = []
}

enum NoteStoreError: Error, CustomStringConvertible {
    case system(String, path: String, errno: Int32)
    case corrupt(path: String, reason: String)
    case unusable(path: String, reason: String)

    var description: String {
        switch self {
        case .system(let call, let path, let code):
            return "\(call) \(path): \(String(cString: strerror(code)))"
        case .corrupt(let path, let reason):
            return "\(path) is not a notes file (\(reason)); move it aside to start afresh"
        case .unusable(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}

/// Notes in a JSON file, safe against crashes and against several worker processes.
///
/// Every change is written to a temporary file, flushed to disk, renamed over `notes.json`,
/// and the folder is flushed too, so an acknowledged note survives a crash or a power cut,
/// and a reader never sees half a file. Workers are separate processes with their own memory,
/// so each change takes an exclusive `flock` and re-reads the file first; reads take a shared
/// lock and reuse the parsed file while its inode, size and mtime are unchanged.
///
/// Every change is also published to `feed`, here inside the actor, so the feed sees changes
/// in the order they were made. Changes another worker process made reach this worker's pages
/// through ``publishOutsideChanges()``, which the app calls every second: it compares the file
/// with the notes already published and publishes the difference. Publishing is idempotent per
/// note (a note is announced as added once, as deleted once), so a change seen both ways is
/// sent once.
actor NoteStore {
    nonisolated let folder: String
    nonisolated let file: String
    nonisolated let feed: NoteFeed
    /// The ids of the notes the feed has announced and not yet announced as deleted.
    private var published: Set<Int> = []
    private let lockPath: String
    private var folderDescriptor: Int32 = -1
    private var lockDescriptor: Int32 = -1
    private var cached: (stamp: [Int], contents: NotesFile)?

    init(folder: String, feed: NoteFeed) {
        self.feed = feed
        self.folder = folder
        self.file = folder + "/notes.json"
        self.lockPath = folder + "/notes.lock"
    }

    /// Creates the folder and keeps it open (for fsync) until ``close()``.
    func open() throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw NoteStoreError.unusable(path: folder, reason: "cannot create the data folder: \(error.localizedDescription)")
        }
        folderDescriptor = try check(Glibc.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open", folder)
        lockDescriptor = try check(Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644), "open", lockPath)
        // A file that cannot be read yet fails its requests, as before, not the start; the
        // first successful look then announces its notes to open pages.
        published = Set(((try? all()) ?? []).map(\.id))
    }

    /// Closes what ``open()`` opened; the worker is draining.
    func close() {
        if folderDescriptor >= 0 { Glibc.close(folderDescriptor) }
        if lockDescriptor >= 0 { Glibc.close(lockDescriptor) }
        folderDescriptor = -1
        lockDescriptor = -1
    }

    func all() throws -> [Note] {
        try locked(LOCK_SH) { try load().notes }
    }

    func note(id: Int) throws -> Note? {
        try locked(LOCK_SH) { try load().notes.first { $0.id == id } }
    }

    func add(text: String) throws -> Note {
        try locked(LOCK_EX) {
            var contents = try load()
            let note = Note(id: contents.nextID, text: text, created: Date())
            contents.nextID += 1
            contents.notes.append(note)
            try save(contents)
            publish(.added(note))
            return note
        }
    }

    func delete(id: Int) throws -> Bool {
        try locked(LOCK_EX) {
            var contents = try load()
            guard let index = contents.notes.firstIndex(where: { $0.id == id }) else { return false }
            contents.notes.remove(at: index)
            try save(contents)
            publish(.deleted(id: id))
            return true
        }
    }

    /// Publishes the notes other worker processes added or deleted since the last look. Cheap
    /// while the file is unchanged: one `stat` against the cached stamp.
    func publishOutsideChanges() throws {
        let notes = try all()
        let present = Set(notes.map(\.id))
        for note in notes where !published.contains(note.id) { publish(.added(note)) }
        for id in published.subtracting(present).sorted() { publish(.deleted(id: id)) }
    }

    private func publish(_ event: NoteEvent) {
        switch event {
        case .added(let note):
            guard published.insert(note.id).inserted else { return }
        case .deleted(let id):
            guard published.remove(id) != nil else { return }
        }
        feed.publish(event)
    }

    private func locked<T>(_ mode: Int32, _ body: () throws -> T) throws -> T {
        guard lockDescriptor >= 0 else { throw NoteStoreError.system("use", path: lockPath, errno: EBADF) }
        // Blocks this thread while another worker writes, which takes milliseconds.
        while flock(lockDescriptor, mode) != 0 {
            guard errno == EINTR else { throw NoteStoreError.system("flock", path: lockPath, errno: errno) }
        }
        defer { flock(lockDescriptor, LOCK_UN) }
        return try body()
    }

    private func load() throws -> NotesFile {
        var info = stat()
        guard stat(file, &info) == 0 else {
            if errno == ENOENT { return NotesFile() }
            throw NoteStoreError.system("stat", path: file, errno: errno)
        }
        let stamp = [Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
        if let cached, cached.stamp == stamp { return cached.contents }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw NoteStoreError.unusable(path: file, reason: "cannot read: \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            let contents = try decoder.decode(NotesFile.self, from: data)
            cached = (stamp, contents)
            return contents
        } catch {
            throw NoteStoreError.corrupt(path: file, reason: "\(error)")
        }
    }

    private func save(_ contents: NotesFile) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = Array(try encoder.encode(contents))
        let temporary = folder + "/.notes.json.\(getpid()).tmp"
        let descriptor = try check(Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644), "open", temporary)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let code = errno
                Glibc.close(descriptor)
                unlink(temporary)
                throw NoteStoreError.system("write", path: temporary, errno: code)
            }
            written += count
        }
        // Data first, then the name: after a crash the old file or the new one is there, whole.
        guard fsync(descriptor) == 0 else {
            let code = errno
            Glibc.close(descriptor)
            unlink(temporary)
            throw NoteStoreError.system("fsync", path: temporary, errno: code)
        }
        Glibc.close(descriptor)
        _ = try check(rename(temporary, file), "rename", file)
        _ = try check(fsync(folderDescriptor), "fsync", folder)
        cached = nil
    }

    private func check(_ result: Int32, _ call: String, _ path: String) throws -> Int32 {
        guard result >= 0 else { throw NoteStoreError.system(call, path: path, errno: errno) }
        return result
    }
}
