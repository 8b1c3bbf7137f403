#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket operation that failed: which step, on which path, and the kernel's reason.
public struct UnixSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Step: Sendable { case path, socket, bind, listen, connect, send }

    public let step: Step
    public let path: String
    /// errno, 0 when the path itself was refused.
    public let code: Int32
    /// strerror's text, or what is wrong with the path.
    public let detail: String

    init(_ step: Step, _ path: String, code: Int32, detail: String? = nil) {
        self.step = step
        self.path = path
        self.code = code
        self.detail = detail ?? String(cString: strerror(code))
    }

    public var description: String {
        let reason = code == 0 ? detail : "\(detail) (errno \(code))"
        switch step {
        case .path: return "Unix socket path \"\(path)\" \(reason)"
        case .socket: return "socket(AF_UNIX) for \(path): \(reason)"
        case .bind: return "cannot bind \(path): \(reason)"
        case .listen: return "cannot listen on \(path): \(reason)"
        case .connect: return "cannot connect to \(path): \(reason)"
        case .send: return "cannot send to \(path): \(reason)"
        }
    }
}
