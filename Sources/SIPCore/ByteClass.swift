/// Character classes of the RFC 3261 grammar, as 256-entry tables so the hot loops do one load
/// per byte instead of a chain of comparisons.
enum ByteClass {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let comma: UInt8 = 0x2C
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let lessThan: UInt8 = 0x3C
    static let greaterThan: UInt8 = 0x3E
    static let slash: UInt8 = 0x2F
    static let at: UInt8 = 0x40
    static let question: UInt8 = 0x3F
    static let percent: UInt8 = 0x25
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D

    private static func table(_ extra: String, alphanumeric: Bool = true) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        if alphanumeric {
            for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(byte)] = true }
            for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(byte)] = true }
            for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(byte)] = true }
        }
        for byte in extra.utf8 { table[Int(byte)] = true }
        return table
    }

    private static let tokenTable = table("-.!%*_+`'~")
    /// unreserved / escaped-start plus user-unreserved.
    private static let userTable = table("-_.!~*'()%&=+$,;?/")
    private static let passwordTable = table("-_.!~*'()%&=+$,")
    private static let hostTable = table("-._")
    private static let paramTable = table("-_.!~*'()%[]/:&+$")
    private static let uriHeaderTable = table("-_.!~*'()%[]/?:+$=&")
    /// Characters a generic-param value may use unquoted: token plus what hosts and IPv6 need.
    private static let paramValueTable = table("-.!%*_+`'~:[]/")
    private static let telTable = table("-_.!~*'()%&=+$,/:?[]@")

    @inline(__always) static func isToken(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }
    @inline(__always) static func isUserChar(_ byte: UInt8) -> Bool { userTable[Int(byte)] }
    @inline(__always) static func isPasswordChar(_ byte: UInt8) -> Bool { passwordTable[Int(byte)] }
    @inline(__always) static func isHostChar(_ byte: UInt8) -> Bool { hostTable[Int(byte)] }
    @inline(__always) static func isParamChar(_ byte: UInt8) -> Bool { paramTable[Int(byte)] }
    @inline(__always) static func isURIHeaderChar(_ byte: UInt8) -> Bool { uriHeaderTable[Int(byte)] }
    @inline(__always) static func isParamValueChar(_ byte: UInt8) -> Bool { paramValueTable[Int(byte)] }
    @inline(__always) static func isTelChar(_ byte: UInt8) -> Bool { telTable[Int(byte)] }
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }
    @inline(__always) static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }
    @inline(__always) static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20) &- 0x61 < 6
    }
    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }
    static func hexValue(_ byte: UInt8) -> UInt8 {
        isDigit(byte) ? byte - 0x30 : (byte | 0x20) - 0x61 + 10
    }

    static func isTokenString(_ string: String) -> Bool {
        !string.isEmpty && string.utf8.allSatisfy(isToken)
    }

    /// ASCII case-insensitive comparison; SIP names are ASCII so this avoids Unicode lowercasing.
    static func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8, right = rhs.utf8
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { lowercased($0) == lowercased($1) }
    }

    static func asciiLowercased(_ string: String) -> String {
        if !string.utf8.contains(where: { $0 &- 0x41 < 26 }) { return string }
        return String(decoding: string.utf8.map(lowercased), as: UTF8.self)
    }
}
