import Foundation
#if canImport(Glibc)
import Glibc
#endif

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Stable JSON for scripts: sorted keys, pretty printed.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Left-aligned columns separated by two spaces, header first: what a person reads at a glance.
func printTable(_ headers: [String], _ rows: [[String]]) {
    var widths = headers.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        var text = ""
        for (index, cell) in cells.enumerated() {
            let isLast = index == cells.count - 1
            text += isLast ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
        }
        return text
    }
    print(line(headers))
    for row in rows { print(line(row)) }
}

func onOff(_ value: Bool) -> String { value ? "on" : "off" }

/// Wall-clock milliseconds, the unit every stored time (expiries, CDR times) is in.
var wallClockMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
