/// A calls-per-second limiter: `rate` tokens a second, bursts up to `rate`.
///
/// Time is passed in (monotonic nanoseconds) so the limiter is deterministic in tests and costs
/// no clock read of its own on the per-INVITE path.
public struct TokenBucket: Sendable {
    public private(set) var rate: Int
    private var tokens: Double
    private var lastRefill: UInt64

    public init(rate: Int, now: UInt64) {
        self.rate = rate
        self.tokens = Double(rate)
        self.lastRefill = now
    }

    /// Changes the rate (a vosctl edit) keeping the tokens already earned, capped at the new burst.
    public mutating func setRate(_ newRate: Int) {
        rate = newRate
        tokens = min(tokens, Double(newRate))
    }

    private mutating func refill(now: UInt64) {
        guard now > lastRefill else { return }
        let elapsed = Double(now - lastRefill) / 1_000_000_000
        tokens = min(Double(rate), tokens + elapsed * Double(rate))
        lastRefill = now
    }

    /// Whether a call may start now; takes a token when it may. A rate of 0 means no limit.
    public mutating func admit(now: UInt64) -> Bool {
        guard rate > 0 else { return true }
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether `admit` would succeed now, without taking a token (used to skip busy vendors).
    public mutating func wouldAdmit(now: UInt64) -> Bool {
        guard rate > 0 else { return true }
        refill(now: now)
        return tokens >= 1
    }

    /// Seconds until a token is available: the Retry-After a refused caller is told.
    public func secondsUntilNextToken() -> Int {
        guard rate > 0, tokens < 1 else { return 0 }
        return max(1, Int(((1 - tokens) / Double(rate)).rounded(.up)))
    }
}

/// Token buckets by key (gateway name, "global"), created on first use.
public struct RateLimiterTable<Key: Hashable & Sendable>: Sendable {
    private var buckets: [Key: TokenBucket] = [:]

    public init() {}

    public mutating func admit(_ key: Key, rate: Int, now: UInt64) -> Bool {
        withBucket(key, rate: rate, now: now) { $0.admit(now: now) }
    }

    public mutating func wouldAdmit(_ key: Key, rate: Int, now: UInt64) -> Bool {
        withBucket(key, rate: rate, now: now) { $0.wouldAdmit(now: now) }
    }

    /// The key's bucket at `rate` (created, or re-rated after a vosctl edit); a rate of 0 admits all.
    private mutating func withBucket(_ key: Key, rate: Int, now: UInt64, _ body: (inout TokenBucket) -> Bool) -> Bool {
        guard rate > 0 else { return true }
        var bucket = buckets[key] ?? TokenBucket(rate: rate, now: now)
        if bucket.rate != rate { bucket.setRate(rate) }
        let admitted = body(&bucket)
        buckets[key] = bucket
        return admitted
    }

    public func retryAfter(_ key: Key) -> Int {
        buckets[key]?.secondsUntilNextToken() ?? 1
    }
}
