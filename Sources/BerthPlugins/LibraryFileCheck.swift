#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks that a file can be a shared library for this machine, by reading its ELF headers
/// only. A truncated library would crash `dlopen` itself; this catches the common cases (an
/// interrupted copy, a text file, another architecture) cheaply, before the probe process
/// catches the rest.
package enum LibraryFileCheck {
    /// The reason the file cannot be a library here, or nil when its headers are sound.
    package static func problem(at path: String) -> AppLoadError.Reason? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable(Self.errorText())
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return .notRegularFile }
        let size = Int(info.st_size)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .unreadable(Self.errorText()) }
        defer { close(fd) }
        return problem(reading: { offset, count in
            var bytes = [UInt8](repeating: 0, count: count)
            let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return read == count ? bytes : nil
        }, size: size)
    }

    /// The same check on any byte source, so it is testable without files.
    package static func problem(reading read: (_ offset: Int, _ count: Int) -> [UInt8]?, size: Int) -> AppLoadError.Reason? {
        guard size >= 4, let magic = read(0, 4), magic == [0x7F, 0x45, 0x4C, 0x46] else { return .notELF }
        guard size <= maximumSize else {
            return .truncated("\(size) bytes, more than any app library should be")
        }
        guard size >= 64, let header = read(0, 64) else {
            return .truncated("\(size) bytes, shorter than an ELF header")
        }
        guard header[4] == 2 else { return .wrongPlatform("a 32-bit ELF file") }
        guard header[5] == 1 else { return .wrongPlatform("a big-endian ELF file") }
        let type = header.uint16(at: 16)
        guard type == 3 else {
            return .wrongPlatform(type == 2 ? "an executable, not a shared library" : "ELF file type \(type), not a shared library")
        }
        let machine = header.uint16(at: 18)
        guard machine == hostMachine else { return .wrongPlatform("ELF machine \(machine), this machine is \(hostMachine)") }

        let programOffset = Int(clamping: header.uint64(at: 32))
        let sectionOffset = Int(clamping: header.uint64(at: 40))
        let programEntrySize = Int(header.uint16(at: 54))
        let programCount = Int(header.uint16(at: 56))
        let sectionEntrySize = Int(header.uint16(at: 58))
        let sectionCount = Int(header.uint16(at: 60))
        guard programCount > 0, programEntrySize >= 56 else {
            return .truncated("it has no program headers")
        }
        guard fits(programOffset, programEntrySize * programCount, in: size) else {
            return .truncated("its program headers end past its \(size) bytes")
        }
        if sectionCount > 0 {
            guard sectionEntrySize >= 64, fits(sectionOffset, sectionEntrySize * sectionCount, in: size) else {
                return .truncated("its section headers end past its \(size) bytes")
            }
        }
        guard let table = read(programOffset, programEntrySize * programCount) else {
            return .truncated("its program headers cannot be read")
        }
        var hasDynamic = false
        for index in 0..<programCount {
            let base = index * programEntrySize
            let kind = table.uint32(at: base)
            let offset = Int(clamping: table.uint64(at: base + 8))
            let fileSize = Int(clamping: table.uint64(at: base + 32))
            if kind == 2 { hasDynamic = true }
            // PT_LOAD and PT_DYNAMIC are mapped and read by the dynamic loader: they must be whole.
            if kind == 1 || kind == 2, !fits(offset, fileSize, in: size) {
                return .truncated("segment \(index) (\(fileSize) bytes at offset \(offset)) lies past its \(size) bytes")
            }
        }
        guard hasDynamic else { return .wrongPlatform("a static ELF file without dynamic section") }
        return nil
    }

    /// Bigger than this is not a library but a mistake (or an attack on memory).
    static let maximumSize = 2 << 30

    private static func fits(_ offset: Int, _ length: Int, in size: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= size && length <= size - offset
    }

    #if arch(x86_64)
    static let hostMachine: UInt16 = 62
    #elseif arch(arm64)
    static let hostMachine: UInt16 = 183
    #elseif arch(riscv64)
    static let hostMachine: UInt16 = 243
    #else
    static let hostMachine: UInt16 = 0
    #endif

    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}

extension [UInt8] {
    fileprivate func uint16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    fileprivate func uint32(at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(self[offset + $1]) << (8 * $1) }
    }

    fileprivate func uint64(at offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(self[offset + $1]) << (8 * $1) }
    }
}
