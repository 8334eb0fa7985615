public import BerthConfig

#if canImport(Glibc)
import Glibc
#endif

/// Serves one directory tree for GET and HEAD: the static handler of a path route.
///
/// `respond(to:)` is synchronous and meant to run on an event loop: a hot file costs one
/// `fstatat`, thanks to ``FileCache``, and with a ``StatusMemo`` the requests of one event-loop
/// tick share that `fstatat`. A file sent with sendfile goes from the memo's thread's own
/// descriptor (one `dup` per file and thread); without a memo, from one `dup` per response.
public final class StaticSite: Sendable {
    public let options: StaticConfig
    let root: RootDirectory
    let cache: FileCache
    let mimeTypes: MIMETypes
    let responder: FileResponder

    /// Opens the root directory once; throws ``StaticSiteError`` if it is missing or an index
    /// name is not a plain file name. `fieldBlock` prepares hot files' fields for a protocol
    /// that wants them in a form of its own.
    public init(options: StaticConfig, fieldBlock: FieldBlockEncoder? = nil) throws {
        for name in options.index where name.isEmpty || name == "." || name == ".." || name.contains("/")
            || name.utf8.contains(0)
        {
            throw StaticSiteError.invalidIndexName(name)
        }
        self.options = options
        root = try RootDirectory(path: options.root, symlinksOutsideRoot: options.symlinksOutsideRoot)
        cache = FileCache()
        mimeTypes = MIMETypes.standard.overriding(with: options.mimeTypes)
        responder = FileResponder(cacheControl: options.cacheControl, varyOnEncoding: options.precompressed, fieldBlock: fieldBlock)
    }

    /// - `memo`: the `fstatat` answers (and files' full answers) of the current event-loop
    ///   tick, when the caller keeps them (see ``StatusMemo``); without one every path is
    ///   looked at afresh.
    public func respond(to request: StaticRequest, memo: StatusMemo? = nil) -> StaticOutcome {
        // An unconditional request's answer depends on nothing but the path, the method, the
        // Accept-Encoding (a sidecar) and the files, which the memo already fixed for this tick.
        guard let memo, request.headers.asksUnconditionally, request.method == "GET" || request.method == "HEAD" else {
            return respondAfresh(to: request, memo: memo)
        }
        if let answer = memo.answer(to: request, in: root) { return .response(answer) }
        let outcome = respondAfresh(to: request, memo: memo)
        // A file's full answer (its fields prepared; a listing is made of the original path
        // too). A body from a descriptor is this thread's descriptor, which every answer the
        // thread sends from the file shares.
        if case .response(let response) = outcome, response.status == 200, response.prepared != nil {
            memo.remember(response, to: request, in: root)
        }
        return outcome
    }

    private func respondAfresh(to request: StaticRequest, memo: StatusMemo?) -> StaticOutcome {
        guard let target = SitePath(request.path, dotfiles: options.dotfiles) else { return .notFound }
        let look = currentLook(target.relative, memo)
        guard let status = look.status else { return .notFound }
        if status.isDirectory { return respondWithDirectory(target, request: request, memo) }
        // "/file.txt/" names a directory that does not exist.
        guard status.isRegular, !target.hasTrailingSlash else { return .notFound }
        return respondWithFile(target.relative, look: look, request: request, memo)
    }

    private func respondWithFile(_ relative: String, look: StatusMemo.Look, request: StaticRequest, _ memo: StatusMemo?) -> StaticOutcome {
        guard let file = cachedFile(relative, look: look, memo) else { return .notFound }
        guard request.method == "GET" || request.method == "HEAD" else { return .response(Self.methodNotAllowed) }
        // A cached file knows its media type from when it was opened (same path, same table).
        let contentType = file.fullResponse?.contentType ?? mimeTypes.type(forPath: relative)
        var representation = Representation(file: file, coding: nil, contentType: contentType)
        if options.precompressed, let acceptEncoding = request.headers.acceptEncoding {
            for coding in AcceptEncoding.preferredCodings(acceptEncoding) {
                let sidecar = relative + coding.fileSuffix
                let sidecarLook = currentLook(sidecar, memo)
                guard sidecarLook.status?.isRegular == true,
                    let sidecarFile = cachedFile(sidecar, look: sidecarLook, memo)
                else { continue }
                representation = Representation(file: sidecarFile, coding: coding, contentType: contentType)
                break
            }
        }
        return .response(responder.respond(representation, to: request, now: Int(time(nil)), thread: memo?.thread))
    }

    /// `fstatat` of `relative` (this tick's, with a memo); when the path no longer names a
    /// regular file, its cache entry goes too, so a deleted file's descriptor (and disk space)
    /// is not held on to.
    private func currentLook(_ relative: String, _ memo: StatusMemo?) -> StatusMemo.Look {
        // Only a fresh look can find a file gone: a remembered one found it so already, and its
        // entry went then (a sidecar that does not exist is looked for on every request).
        let dropIfGone = { (look: StatusMemo.Look) in
            if look.status?.isRegular != true { self.cache.remove(relative) }
        }
        guard let memo else {
            let look = StatusMemo.Look(status: root.status(relative))
            dropIfGone(look)
            return look
        }
        return memo.look(relative, in: root, whenFresh: dropIfGone)
    }

    /// The file this tick found already, or the cached file if its identity still matches what
    /// `fstatat` saw, else a fresh confined open (nil when the path leaves the root or is no
    /// longer a regular file). The memo keeps what was found for the rest of the tick.
    private func cachedFile(_ relative: String, look: StatusMemo.Look, _ memo: StatusMemo?) -> CachedFile? {
        if let known = look.file { return known }
        guard let identity = look.status?.identity else { return nil }
        let file: CachedFile
        if let hit = cache.lookup(relative, identity: identity) {
            file = hit
        } else {
            let profile = responder.profile(contentType: mimeTypes.type(forPath: relative))
            guard let opened = CachedFile.open(relative, in: root, profile: profile) else {
                cache.remove(relative)
                return nil
            }
            cache.insert(opened, for: relative)
            file = opened
        }
        memo?.remember(file, for: relative, in: root)
        return file
    }

    private func respondWithDirectory(_ target: SitePath, request: StaticRequest, _ memo: StatusMemo?) -> StaticOutcome {
        // Other methods on a directory go to the fallback (an app's `POST /`, say): a
        // directory is not a resource this handler owns.
        guard request.method == "GET" || request.method == "HEAD" else { return .notFound }
        guard target.hasTrailingSlash || target.relative == "." else {
            // Relative links in the directory's index resolve against the URL, so the URL must
            // end in "/" (as nginx and Apache do). 301: the slash form is the permanent one
            // (RFC 9110 §15.4.2). Only directories inside the root get this answer.
            guard root.isConfinedDirectory(target.relative) else { return .notFound }
            var location = PercentEncoding.encodePath(request.originalPath) + "/"
            if let query = request.query, !query.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) {
                location += "?" + query
            }
            return .response(
                StaticResponse(status: 301, headers: [("Location", location), ("Content-Length", "0")], body: .empty)
            )
        }
        for name in options.index where options.dotfiles || !SitePath.isHidden(Substring(name)) {
            let candidate = target.relative == "." ? name : target.relative + "/" + name
            let look = currentLook(candidate, memo)
            guard look.status?.isRegular == true else { continue }
            return respondWithFile(candidate, look: look, request: request, memo)
        }
        guard options.listing,
            let entries = DirectoryListing.read(target.relative, in: root, dotfiles: options.dotfiles)
        else { return .notFound }
        let page = DirectoryListing.html(path: request.originalPath, entries: entries)
        let headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", String(page.utf8.count))]
        // HEAD gets the body too: whoever writes the answer leaves it out, after the filters
        // saw it, so the fields (a compressed length) are the ones GET would get.
        return .response(StaticResponse(status: 200, headers: headers, body: .bytes(.init(string: page))))
    }

    /// RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
    static let methodNotAllowed = StaticResponse(
        status: 405,
        headers: [("Allow", "GET, HEAD"), ("Content-Length", "0")],
        body: .empty
    )
}

/// A request path checked and turned into a path relative to the site root.
struct SitePath {
    /// `"."` for the root, else segments joined by `/` with no leading or trailing slash.
    var relative: String
    var hasTrailingSlash: Bool

    /// Nil for anything a normalized path cannot contain (empty, `.` or `..` segments, NUL),
    /// so a caller that skipped ``RequestTarget`` still cannot leave the root, and for hidden
    /// names unless `dotfiles`.
    init?(_ path: String, dotfiles: Bool) {
        // Fast path for the usual normalized path: no empty, "." or hidden segments means the
        // relative path is the path without its slashes at either end. Read in place, in one
        // pass, and copied out once: every static request comes through here.
        let fast: (relative: String, hasTrailingSlash: Bool)?? = path.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.first == UInt8(ascii: "/") else { return nil }
            var previous = UInt8(ascii: "/")
            for byte in bytes.dropFirst() {
                if byte == 0 { return nil }
                if (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) && previous == UInt8(ascii: "/") { return nil }
                previous = byte
            }
            let hasTrailingSlash = previous == UInt8(ascii: "/")
            let inner = UnsafeBufferPointer(rebasing: bytes[1..<max(1, bytes.count - (hasTrailingSlash ? 1 : 0))])
            return (inner.isEmpty ? "." : String(decoding: inner, as: UTF8.self), hasTrailingSlash)
        }
        if case .some(.some(let plain)) = fast {
            relative = plain.relative
            hasTrailingSlash = plain.hasTrailingSlash
            return
        }
        guard path.hasPrefix("/"), !path.utf8.contains(0) else { return nil }
        var segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        hasTrailingSlash = segments.last?.isEmpty == true
        if hasTrailingSlash { segments.removeLast() }
        for segment in segments {
            guard !segment.isEmpty, segment != ".", segment != ".." else { return nil }
            if !dotfiles && Self.isHidden(segment) { return nil }
        }
        relative = segments.isEmpty ? "." : segments.joined(separator: "/")
    }

    /// Names starting with "." are hidden (`.git`, `.env`, `.htpasswd`…), except `.well-known`
    /// (RFC 8615), which ACME HTTP-01 challenges need. The first byte decides, as for the file
    /// system: by Character, a "." followed by a combining mark is no ".".
    static func isHidden(_ segment: Substring) -> Bool {
        segment.utf8.first == UInt8(ascii: ".") && segment != ".well-known"
    }
}
