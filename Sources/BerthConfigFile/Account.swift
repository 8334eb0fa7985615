#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// User and group lookups with the reentrant calls: configs may be read on several threads.
enum Account {
    static func user(_ nameOrID: String) -> (name: String, uid: UInt32, gid: UInt32)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        if let id = UInt32(nameOrID) {
            guard getpwuid_r(id, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return nil
            }
        } else {
            guard getpwnam_r(nameOrID, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return nil
            }
        }
        return (String(cString: entry.pw_name), entry.pw_uid, entry.pw_gid)
    }

    static func group(_ nameOrID: String) -> (name: String, gid: UInt32)? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        if let id = UInt32(nameOrID) {
            // A numeric group needs no entry in /etc/group: setgid takes any id.
            guard getgrgid_r(id, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return (nameOrID, id)
            }
        } else {
            guard getgrnam_r(nameOrID, &entry, &buffer, buffer.count, &result) == 0, result != nil else {
                return nil
            }
        }
        return (String(cString: entry.gr_name), entry.gr_gid)
    }

    static func userName(_ uid: UInt32) -> String? { user(String(uid))?.name }

    static func groupName(_ gid: UInt32) -> String? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: entry.gr_name)
    }
}
