/// An amount of money as an exact decimal with four fractional digits.
///
/// Binary floating point never touches money in vos: amounts are whole numbers of
/// ten-thousandths (`units`), parsed from and printed as decimal text.
public struct Money: Sendable, Hashable, Comparable {
    /// Fractional digits kept internally; display and charging may round to fewer.
    public static let scale = 4
    public static let unitsPerWhole: Int64 = 10_000

    public var units: Int64

    public init(units: Int64) { self.units = units }
    public init(whole: Int64) { self.units = whole * Money.unitsPerWhole }

    public static let zero = Money(units: 0)

    /// Parses `12`, `-3.5`, `0.0025`. Refuses more than four fractional digits rather than
    /// silently rounding what an operator typed.
    public init(parsing text: String) throws(ModelError) {
        let trimmed = text.trimmingSpaces
        var digits = Substring(trimmed)
        var negative = false
        if digits.first == "-" || digits.first == "+" {
            negative = digits.first == "-"
            digits = digits.dropFirst()
        }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholePart = parts.first, !wholePart.isEmpty || parts.count == 2,
              wholePart.allSatisfy(\.isASCIIDigit) else {
            throw ModelError.invalid(field: "amount", value: text, expected: "a decimal number such as 12.50")
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy(\.isASCIIDigit), !(parts.count == 2 && fraction.isEmpty && wholePart.isEmpty) else {
            throw ModelError.invalid(field: "amount", value: text, expected: "a decimal number such as 12.50")
        }
        guard fraction.count <= Money.scale else {
            throw ModelError.invalid(field: "amount", value: text, expected: "at most \(Money.scale) decimal places")
        }
        guard wholePart.count <= 14, let whole = Int64(wholePart.isEmpty ? "0" : String(wholePart)) else {
            throw ModelError.invalid(field: "amount", value: text, expected: "an amount below 10^14")
        }
        let paddedFraction = String(fraction) + String(repeating: "0", count: Money.scale - fraction.count)
        let fractionUnits = Int64(paddedFraction) ?? 0
        let magnitude = whole * Money.unitsPerWhole + fractionUnits
        self.units = negative ? -magnitude : magnitude
    }

    /// Decimal text with exactly `fractionDigits` digits after the point (rounded half away from zero).
    public func formatted(fractionDigits: Int = Money.scale) -> String {
        let digits = max(0, min(Money.scale, fractionDigits))
        let rounded = rounded(toFractionDigits: digits)
        let magnitude = rounded.units.magnitude
        let whole = magnitude / UInt64(Money.unitsPerWhole)
        let fraction = magnitude % UInt64(Money.unitsPerWhole)
        let sign = rounded.units < 0 ? "-" : ""
        guard digits > 0 else { return "\(sign)\(whole)" }
        var fractionText = String(fraction)
        fractionText = String(repeating: "0", count: Money.scale - fractionText.count) + fractionText
        return "\(sign)\(whole).\(fractionText.prefix(digits))"
    }

    /// Rounds half away from zero to `fractionDigits` (0...4) decimal places.
    public func rounded(toFractionDigits fractionDigits: Int) -> Money {
        let digits = max(0, min(Money.scale, fractionDigits))
        var step: Int64 = 1
        for _ in 0..<(Money.scale - digits) { step *= 10 }
        return Money(units: Money.divideRoundingHalfAway(units, by: step) * step)
    }

    /// `numerator / denominator`, rounded half away from zero. Used for price x seconds / 60.
    public static func divideRoundingHalfAway(_ numerator: Int64, by denominator: Int64) -> Int64 {
        precondition(denominator > 0, "denominator must be positive")
        let quotient = numerator / denominator
        let remainder = numerator % denominator
        if remainder.magnitude * 2 >= UInt64(denominator) {
            return numerator < 0 ? quotient - 1 : quotient + 1
        }
        return quotient
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.units < rhs.units }
    public static func + (lhs: Money, rhs: Money) -> Money { Money(units: lhs.units + rhs.units) }
    public static func - (lhs: Money, rhs: Money) -> Money { Money(units: lhs.units - rhs.units) }
    public static prefix func - (value: Money) -> Money { Money(units: -value.units) }
    public static func += (lhs: inout Money, rhs: Money) { lhs.units += rhs.units }
    public static func -= (lhs: inout Money, rhs: Money) { lhs.units -= rhs.units }
}

extension Money: CustomStringConvertible {
    public var description: String { formatted() }
}

/// Money travels as a decimal string in JSON ("12.5000"), so no consumer reads it as a float.
extension Money: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try Money(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(formatted())
    }
}

