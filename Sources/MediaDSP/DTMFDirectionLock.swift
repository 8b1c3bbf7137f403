/// Which DTMF signalling a call direction listens to, and the "first method wins" lock that keeps
/// a digit sent several ways at once (e.g. RFC 2833 events plus the same tone left in the audio,
/// or INFO plus RFC 2833) from being relayed twice.
///
/// Rule: in one call direction, the first digit admitted by the receive filter locks that
/// direction to its method for the rest of the call; later digits by any other method are
/// dropped (counted), never converted, so the far end sees each key press exactly once.
/// Digits of a method the filter excludes are refused without locking: a filter of `.info` on a
/// leg that also leaks in-band tone must not let the tone lock out the INFO digits.

import VOSModel


/// The DTMF receive setting of a leg: which methods are accepted at all.
public struct DTMFReceiveFilter: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let rfc2833 = DTMFReceiveFilter(rawValue: 1 << 0)
    public static let info = DTMFReceiveFilter(rawValue: 1 << 1)
    public static let inband = DTMFReceiveFilter(rawValue: 1 << 2)
    public static let all: DTMFReceiveFilter = [.rfc2833, .info, .inband]

    /// The filter admitting exactly `method`.
    public init(_ method: DTMFMethod) {
        switch method {
        case .rfc2833: self = .rfc2833
        case .info: self = .info
        case .inband: self = .inband
        }
    }

    /// Parses a setting name: "all", "rfc2833" (or "rfc4733"), "info", "inband"; any case.
    public init?(name: String) {
        switch name.lowercased() {
        case "all": self = .all
        case "rfc2833", "rfc4733": self = .rfc2833
        case "info", "sipinfo", "sip-info": self = .info
        case "inband", "in-band": self = .inband
        default: return nil
        }
    }

    public func accepts(_ method: DTMFMethod) -> Bool { contains(DTMFReceiveFilter(method)) }
}

/// The per-direction lock. Keep one for each direction of a call (caller→callee and back).
public struct DTMFDirectionLock: Equatable, Sendable {
    /// The method that won, once a digit has been admitted.
    public private(set) var lockedMethod: DTMFMethod?
    /// Digits refused by the filter or by the lock.
    public private(set) var droppedDigits = 0

    public init() {}

    /// Whether a digit that arrived by `method` should be relayed; locks on first admission.
    public mutating func admit(_ method: DTMFMethod, filter: DTMFReceiveFilter = .all) -> Bool {
        guard filter.accepts(method) else {
            droppedDigits += 1
            return false
        }
        if let lockedMethod {
            if lockedMethod == method { return true }
            droppedDigits += 1
            return false
        }
        lockedMethod = method
        return true
    }

    /// Releases the lock (e.g. after a re-INVITE changes the negotiated DTMF method).
    public mutating func reset() {
        lockedMethod = nil
    }
}
