import ArgumentParser
import VOSModel

/// `on|off` switches as VOS3000's UI names them; yes/no, true/false and 1/0 are accepted too.
struct OnOff: ExpressibleByArgument, Sendable {
    let value: Bool

    init?(argument: String) {
        switch argument.lowercased() {
        case "on", "yes", "true", "1": value = true
        case "off", "no", "false", "0": value = false
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["on", "off"] }
}

extension MappingGateway.Authentication: ExpressibleByArgument {}
extension Account.Kind: ExpressibleByArgument {}
extension SIPAddress.Transport: ExpressibleByArgument {}
extension MappingGateway.CallerNumberSource: ExpressibleByArgument {}
extension RoutingGateway.IdentityHeaderMode: ExpressibleByArgument {}
extension RoutingGateway.PrivacyMode: ExpressibleByArgument {}
extension ReliableProvisionalMode: ExpressibleByArgument {}
extension VendorSignalling.Redirects: ExpressibleByArgument {}
extension Account.Status: ExpressibleByArgument {
    public init?(argument: String) {
        guard let status = Account.Status.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else { return nil }
        self = status
    }

    public static var allValueStrings: [String] { allCases.map { $0.rawValue.lowercased() } }
}
extension MediaProxyMode: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}
extension CodecSettings.Mode: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
extension CodecSettings.G729Mode: ExpressibleByArgument {}
extension DTMFSettings.ReceiveMethod: ExpressibleByArgument {}
extension DTMFSettings.SendMethod: ExpressibleByArgument {}

/// An option whose empty argument (`--dtmf-send ''`) puts the field back to its default, the
/// way '' clears lists and optional values; anything else must parse as `Value`.
enum Resettable<Value: ExpressibleByArgument & Sendable>: ExpressibleByArgument, Sendable {
    case reset
    case value(Value)

    init?(argument: String) {
        if argument.trimmingSpaces.isEmpty {
            self = .reset
        } else if let value = Value(argument: argument) {
            self = .value(value)
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { Value.allValueStrings }

    func resolved(default fallback: Value) -> Value {
        switch self {
        case .reset: return fallback
        case let .value(value): return value
        }
    }
}

extension Resettable where Value == OnOff {
    func resolved(default fallback: Bool) -> Bool {
        switch self {
        case .reset: return fallback
        case let .value(value): return value.value
        }
    }
}

/// `--codecs`: a preference list, or '' for the default list.
func parseCodecList(_ text: String, option: String) throws -> [Codec] {
    if text.trimmingSpaces.isEmpty { return CodecSettings().codecs }
    return try Codec.parseList(text, field: option)
}

enum GatewayKind: String, CaseIterable, Sendable, ExpressibleByArgument { case mapping, routing }

func parseIPList(_ text: String) throws -> [IPAddress] {
    var result: [IPAddress] = []
    for item in text.split(separator: ",") where !item.trimmingSpaces.isEmpty {
        result.append(try IPAddress(parsing: String(item), field: "--ip"))
    }
    guard !result.isEmpty else { throw ModelError.missing(field: "--ip") }
    return result
}

func parsePrefixList(_ text: String) throws -> [String] {
    let prefixes = try parseNumberList(text, option: "--prefix")
    guard !prefixes.isEmpty else { throw ModelError.missing(field: "--prefix") }
    return prefixes
}

/// Comma-separated numbers or number prefixes; empty text is an empty list (a clear).
func parseNumberList(_ text: String, option: String) throws -> [String] {
    let numbers = parseNameList(text)
    for number in numbers { try NumberPrefix.validate(number, field: option) }
    return numbers
}

/// Comma-separated names, blanks dropped; empty text is an empty list.
func parseNameList(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
}

func parseCodeList(_ text: String) throws -> [Int]? {
    if text.lowercased() == "default" { return nil }
    var codes: [Int] = []
    for item in text.split(separator: ",") {
        guard let code = Int(item.trimmingSpaces), (300...699).contains(code) else {
            throw ModelError.invalid(field: "--stop-codes", value: text, expected: "comma-separated SIP codes 300-699, or 'default'")
        }
        codes.append(code)
    }
    return codes
}

func parseMoney(_ text: String, option: String) throws -> Money {
    do { return try Money(parsing: text) } catch {
        throw ModelError.invalid(field: option, value: text, expected: "a decimal amount such as 10.50 (at most \(Money.scale) decimals)")
    }
}
