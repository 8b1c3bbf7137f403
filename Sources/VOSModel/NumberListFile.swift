/// The file `vosctl list add|remove --file` reads: one number per line; blank lines and lines
/// whose first character (after spaces) is `#` are skipped, and `#` after a number and a space
/// starts a comment. Any other line that is not one number (1-32 characters of 0-9, +, *, #) is an
/// error naming the line, so a file is taken whole or not at all. Parsed from bytes in one pass:
/// a million lines take well under a second.
public enum NumberListFile {
    public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let text: String

        public init(line: Int, text: String) {
            self.line = line
            self.text = text
        }

        public var description: String {
            "line \(line): '\(text)' is not a number (expected 1-32 characters of 0-9, +, *, #, one number per line, # for comments)"
        }
    }

    /// The numbers in file order (repeats kept: the set removes them).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(LineError) -> [PackedNumber] {
        var numbers: [PackedNumber] = []
        numbers.reserveCapacity(bytes.count / 8)
        var start = 0
        // A UTF-8 byte order mark, as some spreadsheet exports write.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
        var lineNumber = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            defer { start = end + 1 }
            var first = start, last = end
            while first < last && isSpace(bytes[first]) { first += 1 }
            while last > first && isSpace(bytes[last - 1]) { last -= 1 }
            if first == last || bytes[first] == UInt8(ascii: "#") { continue }
            var numberEnd = first
            while numberEnd < last && !isSpace(bytes[numberEnd]) { numberEnd += 1 }
            var rest = numberEnd
            while rest < last && isSpace(bytes[rest]) { rest += 1 }
            let number = UnsafeBufferPointer(rebasing: bytes[first..<numberEnd])
            guard rest == last || bytes[rest] == UInt8(ascii: "#"), let packed = PackedNumber.whole(number) else {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[first..<last]), as: UTF8.self)
                throw LineError(line: lineNumber, text: text.count > 60 ? String(text.prefix(60)) + "..." : text)
            }
            numbers.append(packed)
        }
        return numbers
    }

    public static func parse(_ text: String) throws(LineError) -> [PackedNumber] {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBufferPointer { buffer in Result { () throws(LineError) in try parse(buffer) } }
        return try result.get()
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}
