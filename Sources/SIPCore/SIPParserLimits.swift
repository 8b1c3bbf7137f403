/// Hard bounds the parser enforces; exceeding one is a `SIPParseError`, never a crash or an
/// unbounded allocation. Defaults fit UDP (64 KiB datagrams) with room for long Route sets.
public struct SIPParserLimits: Sendable, Equatable {
    public var maxMessageSize: Int
    public var maxHeaderCount: Int
    /// Longest start line or unfolded header field (name, colon and value).
    public var maxLineLength: Int
    /// Most comma-separated elements decoded from one header kind (Via, Route, Contact...).
    public var maxListElements: Int

    public init(maxMessageSize: Int = 65_536, maxHeaderCount: Int = 256,
                maxLineLength: Int = 8_192, maxListElements: Int = 128) {
        self.maxMessageSize = maxMessageSize
        self.maxHeaderCount = maxHeaderCount
        self.maxLineLength = maxLineLength
        self.maxListElements = maxListElements
    }

    public static let `default` = SIPParserLimits()
}
