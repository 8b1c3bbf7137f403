import VOSModel

/// RFC 4028 session timers as vos runs them: on each leg on its own, since a B2BUA terminates
/// both dialogs. Where a peer asks to refresh, vos expects its refreshes and ends the call when
/// they stop; everywhere else vos refreshes (every interval ÷ `SS_SIP_SESSION_UPDATE_SEGMENT`).
/// A leg whose peer does not support timers at all has none; a call with no timer on either leg
/// is ended after `SS_SIP_NO_TIMER_REINVITE_INTERVAL`.
///
/// Pure: the B2BUA reads the headers and runs the timers.
public struct SessionTimerSettings: Sendable, Equatable {
    /// SS_SIP_SESSION_TTL: the Session-Expires vos asks for.
    public var sessionExpires: Int
    /// SS_SIP_SESSION_MIN_SE: the shortest interval vos accepts (422 below it).
    public var minimum: Int
    /// SS_SIP_SESSION_UPDATE_SEGMENT: vos refreshes every interval ÷ segment.
    public var segment: Int
    /// SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP: seconds before expiry to give up on a silent
    /// refresher (0: RFC 4028's min(32, interval ÷ 3)).
    public var earlyHangup: Int
    /// SS_SIP_NO_TIMER_REINVITE_INTERVAL: the longest call with no timer on either leg (0: none).
    public var noTimerLimit: Int

    public init(sessionExpires: Int = 600, minimum: Int = 90, segment: Int = 2, earlyHangup: Int = 0, noTimerLimit: Int = 7200) {
        self.sessionExpires = sessionExpires
        self.minimum = minimum
        self.segment = segment
        self.earlyHangup = earlyHangup
        self.noTimerLimit = noTimerLimit
    }

    public init(parameters: ParameterSet) {
        self.init(sessionExpires: parameters.int(.sessionTTL), minimum: parameters.int(.sessionMinSE),
                  segment: max(1, parameters.int(.sessionUpdateSegment)),
                  earlyHangup: parameters.int(.sessionTimeoutEarlyHangup), noTimerLimit: parameters.int(.noTimerReinviteInterval))
    }

    /// The Session-Expires vos offers a vendor: never below its own minimum.
    public var offered: Int { max(sessionExpires, minimum) }
}

/// One leg's negotiated timer.
public struct LegSessionTimer: Sendable, Equatable {
    public enum Refresher: Sendable, Equatable {
        /// vos sends the refreshes.
        case vos
        /// The peer does; vos watches for them.
        case peer
    }

    public var interval: Int
    public var refresher: Refresher

    public init(interval: Int, refresher: Refresher) {
        self.interval = interval
        self.refresher = refresher
    }

    /// Seconds from one refresh to the next one vos sends.
    public func refreshAfter(_ settings: SessionTimerSettings) -> Int { max(1, interval / max(1, settings.segment)) }

    /// Seconds from the last refresh until vos gives up on a refreshing peer: RFC 4028 §10's
    /// min(32, interval ÷ 3) before expiry, or SS_SIP_SESSION_TIMEOUT_EARLY_HANGUP when set.
    public func expiryAfter(_ settings: SessionTimerSettings) -> Int {
        let margin = settings.earlyHangup > 0 ? settings.earlyHangup : min(32, interval / 3)
        return max(1, interval - margin)
    }

    /// The `refresher=` parameter as the sender of a message on this leg writes it.
    public func refresherParameter(weAreUAC: Bool) -> String {
        (refresher == .vos) == weAreUAC ? "uac" : "uas"
    }
}

public enum SessionTimerNegotiation {
    /// What the customer's INVITE (vos is its UAS) asked for.
    public enum Request: Sendable, Equatable {
        /// No timer on this leg: the customer neither asked for nor supports one.
        case none
        case accepted(LegSessionTimer)
        /// Below vos's minimum: answer 422 with this Min-SE.
        case tooSmall(minimum: Int)
    }

    /// vos as UAS. `requested`/`refresher` from Session-Expires, `peerMinimum` from Min-SE,
    /// `supportsTimer` from Supported/Require.
    public static func answer(requested: Int?, refresher: String?, peerMinimum: Int?, supportsTimer: Bool,
                              settings: SessionTimerSettings) -> Request {
        guard let requested else {
            guard supportsTimer else { return .none }
            return .accepted(LegSessionTimer(interval: max(settings.offered, peerMinimum ?? 0), refresher: .vos))
        }
        guard requested >= settings.minimum else { return .tooSmall(minimum: settings.minimum) }
        // A UAS may shorten the interval, never below either side's minimum (RFC 4028 §9).
        let interval = max(min(requested, settings.offered), settings.minimum, peerMinimum ?? 0)
        // The UAC chose itself: it refreshes. Otherwise the UAS chooses, and vos refreshes.
        return .accepted(LegSessionTimer(interval: interval, refresher: refresher?.lowercased() == "uac" ? .peer : .vos))
    }

    /// vos as UAC: the vendor's 2xx. No Session-Expires means the vendor runs no timer.
    public static func accepted(responseExpires: Int?, refresher: String?) -> LegSessionTimer? {
        guard let responseExpires, responseExpires > 0 else { return nil }
        return LegSessionTimer(interval: responseExpires, refresher: refresher?.lowercased() == "uas" ? .peer : .vos)
    }

    /// The Session-Expires to retry with after a vendor's 422, or nil when the 422 gives no
    /// usable Min-SE (then it is an ordinary failure).
    public static func retry(after peerMinimum: Int?, offered: Int) -> Int? {
        guard let peerMinimum, peerMinimum > offered, peerMinimum <= 86_400 else { return nil }
        return peerMinimum
    }
}
