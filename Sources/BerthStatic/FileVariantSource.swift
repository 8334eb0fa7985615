public import NIOCore

/// The file a static response is about, in its own representation (a full 200, the HEAD of
/// one, or a 304 that stands for one), for filters that derive variants of it: the server's
/// compression filter compresses its bytes and keeps the result under the file's identity, so
/// a changed file never gets an old variant. Sidecar answers carry none: they are variants
/// already.
public struct FileVariantSource: Sendable {
    let file: CachedFile
    /// The media type the site serves the file as.
    public let contentType: String

    /// Device, inode, size and times when the file was opened: any change of content
    /// changes it.
    public var identity: FileIdentity { file.identity }
    public var size: Int64 { file.size }

    /// The whole file: from memory when it is small, else read (nil when it no longer has its
    /// size or cannot be read).
    public func contents() -> ByteBuffer? {
        file.readContents()
    }
}
