/// The Date header must be an RFC 1123 date in GMT (RFC 3261 §20.17), e.g.
/// `Sat, 13 Nov 2010 23:29:00 GMT`. Only the shape is checked; no calendar math is needed here.
enum SIPDate {
    private static let weekdays: Set<String> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let months: Set<String> = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func validate(_ value: String) throws(SIPParseError) {
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6,
              parts[0].hasSuffix(","), weekdays.contains(String(parts[0].dropLast())),
              parts[1].count == 2, parts[1].utf8.allSatisfy(ByteClass.isDigit),
              months.contains(String(parts[2])),
              parts[3].count == 4, parts[3].utf8.allSatisfy(ByteClass.isDigit),
              isTime(parts[4]), parts[5] == "GMT" else {
            throw SIPParseError(.invalidHeader, "'\(value)' is not an RFC 1123 date in GMT")
        }
    }

    private static func isTime(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 8, bytes[2] == ByteClass.colon, bytes[5] == ByteClass.colon else { return false }
        return [0, 1, 3, 4, 6, 7].allSatisfy { ByteClass.isDigit(bytes[$0]) }
    }
}
