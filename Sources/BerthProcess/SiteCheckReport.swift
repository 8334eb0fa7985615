/// What `berth-worker check-sites FILE` prints: the verdict on a configuration's sites and
/// certificates, as the worker's server code sees them. The master links no serving code, so
/// it asks its worker binary, like it asks it to probe app libraries.
package struct SiteCheckReport: Codable, Equatable {
    /// Findings that do not stop a start (a certificate about to expire, say).
    package var warnings: [String]
    /// Every problem that does, one per line; nil when the sites can be served.
    package var error: String?

    package init(warnings: [String], error: String?) {
        self.warnings = warnings
        self.error = error
    }

    package static let command = "check-sites"
    /// The report's line starts with this; anything else the child prints is not the report.
    package static let linePrefix = "berth-sites: "
}
