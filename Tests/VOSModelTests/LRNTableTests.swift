import Testing
import VOSModel

/// The LRN table, its import file and binary form, and the policy that decides what a call is
/// routed on.
@Suite struct LRNTableTests {
    @Test func importFileLooksUpPortedNumbersAndRefusesBadLines() throws {
        let table = try LRNFile.parse("""
            number,lrn
            # ported last week
            2025550143,2025559999
            2025550100;3015550000   # semicolons work too
            2025550150 2025559999

            """)
        #expect(table.count == 3)
        #expect(table.routingNumber(of: "2025550143") == "2025559999")
        #expect(table.routingNumber(of: "2025550100") == "3015550000")
        #expect(table.routingNumber(of: "2025550101") == nil)
        #expect(table.routingNumber(of: "202555014") == nil)

        #expect(throws: LRNFile.LineError(line: 3, reason: "number '20255x0143' is not 1-32 characters of 0-9, +, *, #")) {
            try LRNFile.parse("1,2\n3,4\n20255x0143,2025559999\n")
        }
        #expect(throws: LRNFile.LineError(line: 2, reason: "'2025550143' is not NUMBER,LRN (two numbers, comma-separated)")) {
            try LRNFile.parse("1,2\n2025550143\n")
        }
        #expect(throws: LRNFile.LineError(line: 4, reason: "number 2025550143 has LRN 111 here and 2025559999 on line 1")) {
            try LRNFile.parse("2025550143,2025559999\n5,6\n7,8\n2025550143,111\n")
        }
        // The same pair twice is harmless.
        #expect(try LRNFile.parse("5,6\n5,6\n").count == 1)
    }

    @Test func binaryFormRoundTripsAndRefusesDamage() throws {
        let table = try LRNFile.parse("2025550143,2025559999\n+4420,+4479\n1,2\n")
        let bytes = table.binary
        let read = try bytes.withUnsafeBytes { try LRNTable(binary: $0) }
        #expect(read == table)
        var swapped = bytes
        // Swap the first two pairs' numbers: out of order.
        for offset in 0..<16 { swapped.swapAt(8 + offset, 8 + 32 + offset) }
        #expect(throws: ModelError.self) { try swapped.withUnsafeBytes { try LRNTable(binary: $0) } }
        #expect(throws: ModelError.self) { try Array(bytes.dropLast()).withUnsafeBytes { try LRNTable(binary: $0) } }
    }

    @Test func mergingKeepsTheNewerLRN() throws {
        let old = try LRNFile.parse("1,10\n2,20\n3,30\n")
        let new = try LRNFile.parse("2,21\n4,40\n")
        let merged = old.merging(new)
        #expect(merged.count == 4)
        #expect(["1", "2", "3", "4"].map { merged.routingNumber(of: $0) } == ["10", "21", "30", "40"])
    }

    @Test func policyRoutesOnTheLRNOrTheDialledNumber() throws {
        let table = try LRNFile.parse("2025550143,2025559999\n")
        #expect(LRNPolicy(enabled: false).resolve("2025550143", in: table) == .notConsulted)
        #expect(LRNPolicy(enabled: true).resolve("2025550143", in: table) == .ported(routingNumber: "2025559999", matchOn: "2025559999"))
        #expect(LRNPolicy(enabled: true, routeOnLRN: false).resolve("2025550143", in: table)
            == .ported(routingNumber: "2025559999", matchOn: "2025550143"))
        // A leading 1 the table does not hold is eaten before the lookup.
        #expect(LRNPolicy(enabled: true, eatPrefixLength: 1).resolve("12025550143", in: table)
            == .ported(routingNumber: "2025559999", matchOn: "2025559999"))
        #expect(LRNPolicy(enabled: true).resolve("2025550000", in: table) == .notPorted)
        #expect(LRNPolicy(enabled: true, refuseUnknown: true).resolve("2025550000", in: table) == .refused)

        var parameters = ParameterSet()
        try parameters.set(.lrnEnable, to: "1")
        try parameters.set(.lrnEatPrefixLength, to: "1")
        try parameters.set(.lrnFailureAction, to: "1")
        try parameters.set(.lrnRoutingNumber, to: "0")
        #expect(LRNPolicy(parameters: parameters) == LRNPolicy(enabled: true, eatPrefixLength: 1, refuseUnknown: true, routeOnLRN: false))
        #expect(throws: ModelError.self) { try parameters.set(.routingSort, to: "cheapest") }
        try parameters.set(.routingSort, to: "LCR")
        #expect(parameters.text(.routingSort) == "lcr")
        #expect(throws: ModelError.self) { try parameters.set(.timeZone, to: "Mars/Olympus") }
        #expect(throws: ModelError.self) { try parameters.set(.timeZone, to: "../etc/passwd") }
        try parameters.set(.timeZone, to: "UTC")
        #expect(parameters.text(.timeZone) == "UTC")
    }
}
