/// Everything that can go wrong talking to the kernel, with what was attempted and why it failed.
public enum NetfilterError: Error, Equatable, CustomStringConvertible {
    /// The kernel refused for lack of privilege or support (EPERM, EACCES, EOPNOTSUPP,
    /// EPROTONOSUPPORT...). vos-mediad turns this into "media stays in userspace".
    case unavailable(operation: String, errno: Int32, reason: String)
    /// Any other netlink or conntrack failure.
    case kernel(operation: String, errno: Int32, reason: String)
    /// The request itself cannot be expressed (bad pattern, unsupported shape).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .unavailable(let op, let code, let reason):
            return "\(op): kernel packet filtering unavailable (errno \(code): \(reason)); staying in userspace"
        case .kernel(let op, let code, let reason): return "\(op) failed (errno \(code): \(reason))"
        case .invalidInput(let text): return "invalid netfilter request: \(text)"
        }
    }

    /// True when the caller should fall back to userspace rather than retry.
    public var isUnavailable: Bool { if case .unavailable = self { return true } else { return false } }
}
