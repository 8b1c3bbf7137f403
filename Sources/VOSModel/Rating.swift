/// One destination of a rate table: calls whose number starts with `prefix` cost
/// `connectionFee + pricePerMinute x billedSeconds / 60`.
public struct RateEntry: Sendable, Hashable, Codable {
    public var prefix: String
    public var pricePerMinute: Money
    /// Seconds billed for the first interval (e.g. 60 in 60/60, 30 in 30/6).
    public var firstInterval: Int
    /// Step in seconds after the first interval.
    public var nextInterval: Int
    public var connectionFee: Money
    public var description: String

    public init(prefix: String, pricePerMinute: Money, firstInterval: Int = 60, nextInterval: Int = 60,
                connectionFee: Money = .zero, description: String = "") {
        self.prefix = prefix
        self.pricePerMinute = pricePerMinute
        self.firstInterval = firstInterval
        self.nextInterval = nextInterval
        self.connectionFee = connectionFee
        self.description = description
    }

    public func validate() throws(ModelError) {
        try NumberPrefix.validate(prefix, field: "prefix")
        guard pricePerMinute >= .zero else {
            throw ModelError.invalid(field: "price per minute", value: pricePerMinute.description, expected: "zero or more")
        }
        guard connectionFee >= .zero else {
            throw ModelError.invalid(field: "connection fee", value: connectionFee.description, expected: "zero or more")
        }
        guard (1...3600).contains(firstInterval) else {
            throw ModelError.outOfRange(field: "first interval", value: String(firstInterval), range: "1-3600 seconds")
        }
        guard (1...3600).contains(nextInterval) else {
            throw ModelError.outOfRange(field: "next interval", value: String(nextInterval), range: "1-3600 seconds")
        }
    }

    /// Seconds charged for a call that lasted `seconds`: nothing for an unanswered call, the whole
    /// first interval for any answered one, then whole next intervals, the partial last one as
    /// `unitPrecision` says (rounded up by default). Always billing-step aligned.
    public func billedSeconds(forDuration seconds: Int, unitPrecision: BillingUnitPrecision = .whole) -> Int {
        guard seconds > 0 else { return 0 }
        guard seconds > firstInterval else { return firstInterval }
        let rest = seconds - firstInterval
        let steps = rest / nextInterval
        let partial = rest - steps * nextInterval
        let billsPartial: Bool
        switch unitPrecision {
        case .whole: billsPartial = partial > 0
        case .fromHalf: billsPartial = partial > 0 && partial * 2 >= nextInterval
        case .dropped: billsPartial = false
        }
        return firstInterval + (billsPartial ? steps + 1 : steps) * nextInterval
    }

    /// Cost of `billedSeconds`, rounded half away from zero to `fractionDigits` decimals.
    /// The connection fee is charged only for answered calls.
    public func cost(billedSeconds: Int, fractionDigits: Int = Money.scale) -> Money {
        guard billedSeconds > 0 else { return .zero }
        let usage = Money.divideRoundingHalfAway(pricePerMinute.units * Int64(billedSeconds), by: 60)
        return (Money(units: usage) + connectionFee).rounded(toFractionDigits: fractionDigits)
    }

    /// Longest call (seconds) that `credit` pays for, counting whole billing steps only.
    public func maximumDuration(for credit: Money, fractionDigits: Int = Money.scale) -> Int {
        guard cost(billedSeconds: firstInterval, fractionDigits: fractionDigits) <= credit else { return 0 }
        guard pricePerMinute > .zero else { return Int.max }
        let perStep = cost(billedSeconds: firstInterval + nextInterval, fractionDigits: fractionDigits)
            - cost(billedSeconds: firstInterval, fractionDigits: fractionDigits)
        var seconds = firstInterval
        if perStep > .zero {
            let remaining = credit - cost(billedSeconds: firstInterval, fractionDigits: fractionDigits)
            seconds += Int(remaining.units / perStep.units) * nextInterval
        }
        // Per-step rounding can drift; walk back until the total really fits.
        while seconds > firstInterval && cost(billedSeconds: seconds, fractionDigits: fractionDigits) > credit {
            seconds -= nextInterval
        }
        return seconds
    }
}

/// Longest-prefix match over one rate table's entries.
public struct RateTable: Sendable {
    public let name: String
    private let entriesByPrefix: [String: RateEntry]
    private let longestPrefix: Int

    public init(name: String, entries: [RateEntry]) {
        self.name = name
        var byPrefix: [String: RateEntry] = [:]
        for entry in entries { byPrefix[entry.prefix] = entry }
        self.entriesByPrefix = byPrefix
        self.longestPrefix = entries.map(\.prefix.count).max() ?? 0
    }

    public var entries: [RateEntry] { entriesByPrefix.values.sorted { $0.prefix < $1.prefix } }

    public func lookup(_ number: String) -> RateEntry? {
        var length = min(number.count, longestPrefix)
        while length > 0 {
            if let entry = entriesByPrefix[String(number.prefix(length))] { return entry }
            length -= 1
        }
        return nil
    }
}
