/// Until when a call may stay connected on the credit reserved for it.
public struct CallDeadline: Sendable, Hashable {
    /// Connected seconds the reservation pays for; nil when the call has no credit limit
    /// (anti-overdraft off, or a destination with no per-minute price).
    public var connectedSeconds: Int?
    /// True when no more credit will be granted: release the call at `releaseAt` with end reason
    /// BalanceExhausted. False: ask `extendCall` at `extendAt`.
    public var isFinal: Bool
    /// Absolute release time (epoch ms), known once the call is answered.
    public var releaseAt: Int64?
    /// When to ask for the next slice (epoch ms); nil when final, unlimited or not yet answered.
    public var extendAt: Int64?

    public init(connectedSeconds: Int?, isFinal: Bool, releaseAt: Int64?, extendAt: Int64?) {
        self.connectedSeconds = connectedSeconds
        self.isFinal = isFinal
        self.releaseAt = releaseAt
        self.extendAt = extendAt
    }
}
