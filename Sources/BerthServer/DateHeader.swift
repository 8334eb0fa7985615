import BerthStatic
import Glibc

/// The Date header value (RFC 9110 §6.6.1), formatted at most once per second per
/// connection instead of once per response.
struct DateHeader {
    private var second = -1
    private var value = ""

    mutating func current() -> String {
        let now = time(nil)
        if now != self.second {
            self.second = now
            self.value = HTTPDate.format(now)
        }
        return self.value
    }
}
