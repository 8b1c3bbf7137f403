import Testing
@testable import VOSModel

@Suite struct MoneyTests {
    @Test(arguments: [("12", "12.0000"), ("-3.5", "-3.5000"), ("0.0025", "0.0025"), (".5", "0.5000"), ("+7.10", "7.1000")])
    func parsesDecimalText(_ input: String, _ expected: String) throws {
        #expect(try Money(parsing: input).description == expected)
    }

    @Test(arguments: ["", "abc", "1.2.3", "1,5", "0.00001", "-", ".", "1e5", "12 34"])
    func refusesWhatIsNotAnAmount(_ input: String) {
        #expect(throws: ModelError.self) { try Money(parsing: input) }
    }

    @Test func roundsHalfAwayFromZero() throws {
        #expect(try Money(parsing: "1.005").rounded(toFractionDigits: 2).description == "1.0100")
        #expect(try Money(parsing: "-1.005").rounded(toFractionDigits: 2).description == "-1.0100")
        #expect(try Money(parsing: "1.0049").rounded(toFractionDigits: 2).description == "1.0000")
        #expect(try Money(parsing: "2.5").formatted(fractionDigits: 0) == "3")
    }

    @Test func arithmeticIsExact() throws {
        var total = Money.zero
        for _ in 0..<10 { total += try Money(parsing: "0.1") }
        #expect(total == Money(whole: 1))
    }

    @Test func travelsAsStringInJSON() throws {
        struct Box: Codable, Equatable { var amount: Money }
        let box = Box(amount: try Money(parsing: "19.99"))
        let data = try JSONRoundTrip.encode(box)
        #expect(String(decoding: data, as: UTF8.self) == #"{"amount":"19.9900"}"#)
        #expect(try JSONRoundTrip.decode(Box.self, data) == box)
    }
}
