public import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An open regular file handed to the server for response bodies.
///
/// `NIOFileHandle` allows one user at a time (a second concurrent `withUnsafeFileDescriptor`
/// fails with EBUSY), and two event loops may send the same file at once. So each event-loop
/// thread gets a descriptor of its own, duplicated from the cached one once and then used by
/// every response that thread sends from the file: a thread uses it for one synchronous
/// `sendfile` or `pread` at a time, and the write offset is irrelevant because both pass
/// offsets. A response made without a thread (an app's file) gets a descriptor of its own.
/// The descriptor is closed when the last reference goes: keep the `OpenFile` alive until the
/// `FileRegion` built from ``handle`` has been written.
public final class OpenFile: Sendable {
    public let handle: NIOFileHandle
    /// The handle's descriptor, for a caller that sends the file itself.
    public let descriptor: CInt
    /// Size of the file when it was opened; every range handed out lies within it.
    public let size: Int64
    /// The whole file, when it is small enough to be kept in memory (≤ 64 KiB). Only files
    /// above ``CachedFile/sendfileAbove`` are handed out with a descriptor too: a plain
    /// connection sends them with `sendfile`, one that would read them (TLS, HTTP/2) takes
    /// these bytes (``bytes(offset:count:)``).
    public let contents: ByteBuffer?

    init(descriptor: CInt, size: Int64, contents: ByteBuffer?) {
        handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        self.descriptor = descriptor
        self.size = size
        self.contents = contents
    }

    deinit {
        try? handle.close()
    }

    /// `count` bytes from `offset`, when the file is held in memory.
    public func bytes(offset: Int64, count: Int64) -> ByteBuffer? {
        guard let contents, offset >= 0, count >= 0, offset + count <= Int64(contents.readableBytes) else { return nil }
        return contents.getSlice(at: contents.readerIndex + Int(offset), length: Int(count))
    }
}

/// One file as the cache holds it: its identity at open time, and either its contents (small
/// files; the descriptor is closed right away so idle cached files cost no descriptor) or an
/// open descriptor to duplicate for each response.
final class CachedFile: Sendable {
    /// Files up to this size are read into memory.
    static let inMemoryLimit: Int64 = 64 * 1024
    /// Files above this size keep their descriptor as well, even when held in memory: on a
    /// plain connection `sendfile` then spares the copy into the socket, which at 64 KiB costs
    /// more than the system calls around it (`bench/floor.sh`: NIO answers a 64 KiB file 15 %
    /// faster with `sendfile` than from memory). At 32 KiB memory is as fast or faster.
    static let sendfileAbove: Int64 = 32 * 1024

    let identity: FileIdentity
    let contents: ByteBuffer?
    /// Validator texts, computed once per open rather than per response.
    let entityTagOpaque: String
    /// `"<opaque>"`, the ETag field value of the identity representation.
    let quotedEntityTag: String
    let lastModified: String
    /// The decimal size, the Content-Length of a full response.
    let sizeText: String
    /// The fields of a full response in the file's own representation, prepared with the
    /// entry when the opener said how responses look (`profile`).
    let fullResponse: PreparedFields?
    /// The fields of a 304 of it, prepared likewise.
    let notModifiedResponse: PreparedFields?
    private let descriptor: CInt
    /// The descriptors handed to event-loop threads, at their memo's `thread`. Kept as long as
    /// the entry, like nginx's per-worker open-file cache: a response then costs no `dup` and
    /// no `close`.
    private let threadFiles = Mutex<[OpenFile?]>([])
    /// Threads numbered beyond this get a descriptor per response rather than a slot.
    private static let threadSlots = 256

    var size: Int64 { identity.size }

    /// Opens `relative` under `root` if it is a regular file, reading it whole when small.
    static func open(_ relative: String, in root: RootDirectory, profile: PreparedFields.Profile? = nil) -> CachedFile? {
        guard let fd = root.openFile(relative) else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            return nil
        }
        let status = FileStatus(st)
        guard status.isRegular else {
            close(fd)
            return nil
        }
        guard status.identity.size <= inMemoryLimit else {
            return CachedFile(identity: status.identity, contents: nil, descriptor: fd, profile: profile)
        }
        // A writer racing with the read leaves a different identity behind; the next request's
        // stat then misses this entry and reopens. Only the size must agree right now, because
        // it becomes the Content-Length.
        guard let contents = readWhole(fd, size: Int(status.identity.size)), fstat(fd, &st) == 0,
            Int64(st.st_size) == Int64(contents.readableBytes)
        else {
            close(fd)
            return nil
        }
        let keepsDescriptor = status.identity.size > sendfileAbove
        if !keepsDescriptor { close(fd) }
        return CachedFile(identity: status.identity, contents: contents, descriptor: keepsDescriptor ? fd : -1, profile: profile)
    }

    private init(identity: FileIdentity, contents: ByteBuffer?, descriptor: CInt, profile: PreparedFields.Profile?) {
        self.identity = identity
        self.contents = contents
        self.descriptor = descriptor
        // `<mtime ns hex>-<size hex>`: nanoseconds rather than nginx's seconds, so two same-size
        // edits within one second still get distinct entity-tags.
        let opaque = String(identity.modifiedNanoseconds, radix: 16) + "-" + String(identity.size, radix: 16)
        let quoted = "\"" + opaque + "\""
        let lastModified = HTTPDate.format(identity.modifiedSeconds)
        let sizeText = String(identity.size)
        self.entityTagOpaque = opaque
        self.quotedEntityTag = quoted
        self.lastModified = lastModified
        self.sizeText = sizeText
        self.fullResponse = profile.map { PreparedFields($0, contentLength: sizeText, entityTag: quoted, lastModified: lastModified) }
        self.notModifiedResponse = profile.map { PreparedFields(notModified: $0, entityTag: quoted, lastModified: lastModified) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// A descriptor of this file for responses sent by `thread` (a ``StatusMemo``'s), or one of
    /// its own without a thread; nil for in-memory files, or when the process is out of
    /// descriptors.
    func openFile(forThread thread: Int?) -> OpenFile? {
        guard descriptor >= 0 else { return nil }
        guard let thread, thread < Self.threadSlots else { return makeOpenFile() }
        return threadFiles.withLock { files in
            if thread < files.count, let file = files[thread] { return file }
            guard let file = makeOpenFile() else { return nil }
            if thread >= files.count { files += repeatElement(nil, count: thread + 1 - files.count) }
            files[thread] = file
            return file
        }
    }

    /// A descriptor of this file that the caller owns (``openFile(forThread:)`` has checked
    /// that the entry has one).
    private func makeOpenFile() -> OpenFile? {
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        return OpenFile(descriptor: copy, size: size, contents: contents)
    }

    /// The whole file, from memory or read now (nil if it shrank or cannot be read).
    func readContents() -> ByteBuffer? {
        if let contents { return contents }
        guard descriptor >= 0 else { return nil }
        return Self.readWhole(descriptor, size: Int(size))
    }

    /// `size` bytes from offset 0, or nil if the file did not have them (it shrank).
    private static func readWhole(_ fd: CInt, size: Int) -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        var complete = true
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var done = 0
            while done < size {
                let count = pread(fd, raw.baseAddress! + done, size - done, off_t(done))
                if count > 0 {
                    done += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    complete = false
                    break
                }
            }
            return done
        }
        return complete ? buffer : nil
    }
}
