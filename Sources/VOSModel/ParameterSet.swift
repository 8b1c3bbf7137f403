/// The effective system parameters: the operator's overrides over the defaults, with typed reads.
public struct ParameterSet: Sendable, Equatable {
    /// Only what was set explicitly; everything else is the default.
    public private(set) var overrides: [SystemParameter: String]

    public init(overrides: [SystemParameter: String] = [:]) {
        self.overrides = overrides
    }

    public static let defaults = ParameterSet()

    public func text(_ parameter: SystemParameter) -> String {
        overrides[parameter] ?? parameter.definition.defaultValue
    }

    public func isDefault(_ parameter: SystemParameter) -> Bool { overrides[parameter] == nil }

    /// Integer parameters are validated on write, so a stored value always parses; the default is
    /// the fallback for a value written by a future version with a wider range.
    public func int(_ parameter: SystemParameter) -> Int {
        Int(text(parameter)) ?? Int(parameter.definition.defaultValue) ?? 0
    }

    public func bool(_ parameter: SystemParameter) -> Bool { int(parameter) != 0 }

    public func money(_ parameter: SystemParameter) -> Money {
        (try? Money(parsing: text(parameter))) ?? .zero
    }

    public func list(_ parameter: SystemParameter) -> [String] {
        text(parameter).split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// Sets a value after checking it alone and together with the others.
    public mutating func set(_ parameter: SystemParameter, to raw: String) throws(ModelError) {
        var candidate = self
        candidate.overrides[parameter] = try parameter.normalize(raw)
        try candidate.validateTogether()
        self = candidate
    }

    public mutating func reset(_ parameter: SystemParameter) throws(ModelError) {
        var candidate = self
        candidate.overrides[parameter] = nil
        try candidate.validateTogether()
        self = candidate
    }

    /// Rules that involve more than one parameter.
    public func validateTogether() throws(ModelError) {
        let start = int(.mediaProxyPortStart)
        let end = int(.mediaProxyPortEnd)
        guard start % 2 == 0 else {
            throw ModelError.invalid(field: SystemParameter.mediaProxyPortStart.rawValue, value: String(start), expected: "an even port (RTP uses even ports, RTCP the next odd one)")
        }
        guard end >= start + 3 else {
            throw ModelError.inconsistent("\(SystemParameter.mediaProxyPortEnd.rawValue) (\(end)) must be at least \(SystemParameter.mediaProxyPortStart.rawValue) + 3 (\(start + 3)) so the range holds one RTP/RTCP pair per leg")
        }
        let low = int(.jitterBufferMin), high = int(.jitterBufferMax), start0 = int(.jitterBufferDefault)
        guard low <= start0 && start0 <= high else {
            throw ModelError.inconsistent("jitter buffer sizes must satisfy SS_JITTERBUFFER_MIN (\(low)) <= SS_JITTERBUFFER_DEFAULT (\(start0)) <= SS_JITTERBUFFER_MAX (\(high))")
        }
        guard !bool(.hepEnable) || !text(.hepAddress).isEmpty else {
            throw ModelError.inconsistent("SS_HEP_ENABLE 1 needs SS_HEP_ADDRESS, the collector's IP:PORT: set the address first (and clear it only after SS_HEP_ENABLE 0)")
        }
    }
}
