/// Ban lengths as an operator types them: `600`, `600s`, `10m`, `1h`, `1d`.
public enum BanDuration {
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Seconds for `text`, within `FirewallService.banSecondsRange`.
    public static func seconds(_ text: String) throws(Invalid) -> Int {
        let trimmed = text.lowercased().filter { $0 != " " }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var digits = Substring(trimmed)
        var multiplier = 1
        if let last = trimmed.last, let unit = units[last] {
            digits = trimmed.dropLast()
            multiplier = unit
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.count <= 7,
              let number = Int(digits) else {
            throw Invalid(description: "\"\(text)\" is not a duration (use e.g. 600s, 10m, 1h, 1d)")
        }
        let seconds = number * multiplier
        let range = FirewallService.banSecondsRange
        guard range.contains(seconds) else {
            throw Invalid(description: "ban duration \"\(text)\" (\(seconds) s) is outside \(range.lowerBound) s to \(range.upperBound / 86_400) days")
        }
        return seconds
    }

    /// `4m58s`, `2h0m`, `45s`: how `bans` prints a remaining lifetime.
    public static func describe(_ seconds: Int) -> String {
        if seconds >= 3600 { return "\(seconds / 3600)h\((seconds % 3600) / 60)m" }
        if seconds >= 60 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds)s"
    }
}
