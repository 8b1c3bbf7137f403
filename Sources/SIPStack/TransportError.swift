#if canImport(Glibc)
import Glibc
#endif

public enum TransportError: Error, Sendable, CustomStringConvertible {
    case system(String, Int32)
    case connectionClosed(String)

    public var description: String {
        switch self {
        case let .system(call, code): return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .connectionClosed(peer): return "connection to \(peer) closed"
        }
    }
}
