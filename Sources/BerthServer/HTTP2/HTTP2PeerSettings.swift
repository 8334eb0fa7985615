/// What the client's SETTINGS frames said (RFC 9113 §6.5.2), checked as they arrive. The
/// settings that matter to a server that never pushes: how large its frames and the streams'
/// initial send windows may be, and the HPACK table size the client's decoder expects.
struct HTTP2PeerSettings: Sendable {
    private(set) var initialWindowSize = HTTP2Limits.defaultWindowSize
    private(set) var maxFrameSize = HTTP2Limits.defaultMaxFrameSize
    /// The dynamic table size the client's HPACK decoder assumes for our blocks. Lowering it
    /// obliges the next block to begin with a table size update (RFC 7541 §4.2), though this
    /// server never puts anything in the table; some decoders (nghttp2) insist on it.
    private var decoderTableSize = 4096
    private(set) var tableSizeUpdatePending = false

    /// How one SETTINGS frame changed what the server may send.
    struct Change: Equatable {
        /// To be added to every open stream's send window (§6.9.2); may be negative.
        var initialWindowDelta = 0
        var maxFrameSizeGrew = false
    }

    /// Applies a SETTINGS frame's parameters in order.
    mutating func apply(_ settings: HTTP2SettingsList) throws(HTTP2ConnectionError) -> Change {
        var change = Change()
        for entry in settings {
            let value = Int(entry.value)
            switch entry.identifier {
            case HTTP2SettingsEntry.headerTableSize:
                if value < self.decoderTableSize {
                    self.decoderTableSize = value
                    self.tableSizeUpdatePending = true
                }
            case HTTP2SettingsEntry.enablePush:
                guard value <= 1 else { throw HTTP2ConnectionError(.protocolError, "SETTINGS_ENABLE_PUSH of \(value)") }
            case HTTP2SettingsEntry.initialWindowSize:
                guard value <= HTTP2Limits.maxWindowSize else {
                    throw HTTP2ConnectionError(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE beyond 2^31-1")
                }
                change.initialWindowDelta += value - self.initialWindowSize
                self.initialWindowSize = value
            case HTTP2SettingsEntry.maxFrameSize:
                guard (HTTP2Limits.defaultMaxFrameSize...HTTP2Limits.largestMaxFrameSize).contains(value) else {
                    throw HTTP2ConnectionError(.protocolError, "SETTINGS_MAX_FRAME_SIZE of \(value)")
                }
                if value > self.maxFrameSize { change.maxFrameSizeGrew = true }
                self.maxFrameSize = value
            default:
                // MAX_CONCURRENT_STREAMS limits pushes, which this server never makes;
                // MAX_HEADER_LIST_SIZE is advisory; unknown settings are ignored (§6.5.2).
                break
            }
        }
        return change
    }

    /// A block began with a table size update to 0: the client's decoder now expects nothing.
    mutating func tableSizeUpdateSent() {
        self.decoderTableSize = 0
        self.tableSizeUpdatePending = false
    }
}
