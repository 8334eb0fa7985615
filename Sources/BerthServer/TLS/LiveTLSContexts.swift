import NIOSSL
import Synchronization

/// The TLS contexts of one kind of listener, replaceable while it serves: a managed host's
/// new certificate (`tls: auto`, `tls: internal`) goes into service without a reload.
///
/// A handshake picks its context once, in the SNI callback, and keeps it for the life of the
/// connection: connections made before a swap keep the certificate they were shown, and every
/// handshake after it sees the new one. Nothing is closed or drained.
///
/// The table is swapped whole under a `Mutex`: the standard library's `Atomic` holds no strong
/// class reference, and an uncontended lock taken once per handshake costs nanoseconds next to
/// the handshake's key exchange. Readers copy the reference out and use it unlocked.
final class LiveTLSContexts: Sendable {
    let profile: TLSContexts.Profile
    private let table: Mutex<TLSContexts>

    init(_ contexts: TLSContexts) {
        self.profile = contexts.profile
        self.table = Mutex(contexts)
    }

    /// The table in service now.
    var current: TLSContexts { self.table.withLock { $0 } }

    /// Puts `contexts` into service for every handshake that starts from now on.
    func replace(with contexts: TLSContexts) {
        precondition(contexts.profile == self.profile, "a listener's versions and ALPN protocols do not change")
        self.table.withLock { $0 = contexts }
    }

    func context(forServerName serverName: String?) -> NIOSSLContext {
        self.current.context(forServerName: serverName)
    }
}
