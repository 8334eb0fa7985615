import BerthConfig
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Switching a worker to the `user:` and `group:` of the file.
///
/// The master keeps root: it binds new listeners on reload (ports below 1024) and starts
/// workers. A worker switches right after it inherited its sockets and opened its error log,
/// before it loads app code or reads a request, so neither ever runs as root.
package enum Privileges {
    /// Why the current process cannot start workers as `runAs`, or nil when it can.
    package static func problem(with runAs: RunAsConfig) -> String? {
        if geteuid() == 0 { return nil }
        if geteuid() == runAs.uid && getegid() == runAs.gid { return nil }
        return "\(runAs.location): cannot switch workers to user '\(runAs.user)' and group '\(runAs.group)': "
            + "berth runs as uid \(geteuid()); start it as root, or remove 'user:' and 'group:'"
    }

    /// Drops to `runAs` for good: supplementary groups first, then the group, then the user
    /// (after setuid the others could no longer be changed).
    package static func drop(to runAs: RunAsConfig) throws {
        if geteuid() == runAs.uid && getegid() == runAs.gid && getuid() == runAs.uid && getgid() == runAs.gid { return }
        var groups = [runAs.gid]
        guard setgroups(1, &groups) == 0 else { throw failure("setgroups") }
        guard setgid(runAs.gid) == 0 else { throw failure("setgid(\(runAs.gid))") }
        guard setuid(runAs.uid) == 0 else { throw failure("setuid(\(runAs.uid))") }
        // setuid from root sets the real, effective and saved ids: there is no way back.
        if runAs.uid != 0 && setuid(0) == 0 {
            throw CLIError("still able to regain root after switching to user '\(runAs.user)'; refusing to serve")
        }
    }

    /// Log files the workers will open as `runAs`: created if missing and handed to that
    /// account, so that a worker can open them, and reopen them after rotation.
    package static func prepareLogFiles(_ config: ServerConfig, for runAs: RunAsConfig) throws {
        guard geteuid() == 0 else { return }
        var paths: [String] = []
        for destination in [config.logs.access, config.logs.error] + config.hosts.compactMap(\.accessLog) {
            if case .file(let path) = destination, !paths.contains(path) { paths.append(path) }
        }
        for path in paths {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw failure("cannot open log file '\(path)'") }
            defer { close(fd) }
            guard fchown(fd, runAs.uid, runAs.gid) == 0 else { throw failure("cannot hand log file '\(path)' to user '\(runAs.user)'") }
        }
    }

    private static func failure(_ what: String) -> CLIError {
        CLIError("\(what): \(String(cString: strerror(errno)))")
    }
}
