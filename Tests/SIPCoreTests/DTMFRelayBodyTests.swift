import Testing
@testable import SIPCore

@Suite struct DTMFRelayBodyTests {
    @Test func parsesCanonicalRelayBody() throws {
        let digit = try DTMFInfoDigit(contentType: "application/dtmf-relay", body: "Signal=5\r\nDuration=160\r\n")
        #expect(digit.digit == "5")
        #expect(digit.durationMilliseconds == 160)
    }

    @Test(arguments: [
        ("Signal= 5\nDuration= 200\n", "5", 200),
        ("signal=#\r\nduration=100", "#", 100),
        ("SIGNAL = * \r\n DURATION = 250 \r\n", "*", 250),
        ("\r\nSignal=7\r\n\r\n", "7", 250),
        ("Signal=a\r\nDuration=90\r\n", "A", 90),
        ("Signal=D\r\n", "D", 250),
        ("Signal=10\r\nDuration=160\r\n", "*", 160),
        ("Signal=11\r\nDuration=160\r\n", "#", 160),
        ("Signal=12\r\n", "A", 250),
        ("Duration=300\r\nSignal=0\r\n", "0", 300),
        ("Signal=9\r\nDuration=160\r\nVolume=10\r\n", "9", 160),
        ("Signal=\t3\t\r\nDuration=0\r\n", "3", 0),
    ] as [(String, Character, Int)])
    func parsesRelayVariations(body: String, digit: Character, duration: Int) throws {
        let parsed = try DTMFInfoDigit(contentType: "application/dtmf-relay", body: body)
        #expect(parsed.digit == digit)
        #expect(parsed.durationMilliseconds == duration)
    }

    @Test func acceptsContentTypeCaseAndParameters() throws {
        let parsed = try DTMFInfoDigit(contentType: " Application/DTMF-Relay ; charset=utf-8", body: "Signal=4")
        #expect(parsed.digit == "4")
    }

    @Test(arguments: [("5", "5"), ("#\r\n", "#"), (" b \n", "B"), ("11", "#"), ("10", "*")] as [(String, Character)])
    func parsesPlainDTMF(body: String, digit: Character) throws {
        let parsed = try DTMFInfoDigit(contentType: "application/dtmf", body: body)
        #expect(parsed.digit == digit)
        #expect(parsed.durationMilliseconds == DTMFInfoDigit.defaultDurationMilliseconds)
    }

    @Test func acceptsBytes() throws {
        let parsed = try DTMFInfoDigit(contentType: DTMFInfoDigit.contentType, body: Array("Signal=8\r\nDuration=120\r\n".utf8))
        #expect(parsed == (try DTMFInfoDigit(digit: "8", durationMilliseconds: 120)))
    }

    @Test func formatsRelayBody() throws {
        let digit = try DTMFInfoDigit(digit: "*", durationMilliseconds: 160)
        #expect(digit.body == "Signal=*\r\nDuration=160\r\n")
        #expect(DTMFInfoDigit.contentType == "application/dtmf-relay")
        #expect(try DTMFInfoDigit(contentType: DTMFInfoDigit.contentType, body: digit.body) == digit)
        #expect(try DTMFInfoDigit(digit: "c").digit == "C")
    }

    @Test(arguments: [
        ("text/plain", "Signal=5", DTMFInfoBodyError.Kind.unsupportedContentType),
        ("application/dtmf-relayx", "Signal=5", .unsupportedContentType),
        ("", "Signal=5", .unsupportedContentType),
        ("application/dtmf-relay", "", .missingSignal),
        ("application/dtmf-relay", "Duration=160\r\n", .missingSignal),
        ("application/dtmf-relay", "Signal=\r\n", .missingSignal),
        ("application/dtmf-relay", "Signal=16\r\n", .invalidSignal),
        ("application/dtmf-relay", "Signal=55\r\n", .invalidSignal),
        ("application/dtmf-relay", "Signal=E\r\n", .invalidSignal),
        ("application/dtmf-relay", "Signal=5 6\r\n", .invalidSignal),
        ("application/dtmf-relay", "Signal=5\r\nDuration=abc\r\n", .invalidDuration),
        ("application/dtmf-relay", "Signal=5\r\nDuration=-5\r\n", .invalidDuration),
        ("application/dtmf-relay", "Signal=5\r\nDuration=\r\n", .invalidDuration),
        ("application/dtmf-relay", "Signal=5\r\nDuration=99999999\r\n", .invalidDuration),
        ("application/dtmf-relay", "Signal=5\r\nSignal=6\r\n", .duplicateField),
        ("application/dtmf-relay", "Signal=5\r\nDuration=1\r\nDuration=2\r\n", .duplicateField),
        ("application/dtmf-relay", "Signal 5\r\n", .malformedLine),
        ("application/dtmf-relay", "Signal=5\r\nDuration=160\r\ngarbage\r\n", .malformedLine),
        ("application/dtmf-relay", "Signal=é\r\n", .invalidEncoding),
        ("application/dtmf", "", .missingSignal),
        ("application/dtmf", " \r\n", .missingSignal),
        ("application/dtmf", "Signal=5", .invalidSignal),
        ("application/dtmf", "12345", .invalidSignal),
    ] as [(String, String, DTMFInfoBodyError.Kind)])
    func refusesMalformedBodies(contentType: String, body: String, kind: DTMFInfoBodyError.Kind) {
        do {
            let parsed = try DTMFInfoDigit(contentType: contentType, body: body)
            Issue.record("accepted \(body.debugDescription) as \(parsed)")
        } catch {
            #expect(error.kind == kind, "\(error)")
            #expect(!error.detail.isEmpty)
        }
    }

    @Test func refusesOversizedBody() {
        let body = "Signal=5\r\n" + String(repeating: "X-Padding=1\r\n", count: 100)
        #expect(throws: DTMFInfoBodyError.self) { try DTMFInfoDigit(contentType: "application/dtmf-relay", body: body) }
    }

    @Test func errorsNameTheCulpritAndStatus() {
        do {
            _ = try DTMFInfoDigit(contentType: "application/dtmf-relay", body: "Signal=16")
            Issue.record("flash accepted")
        } catch {
            #expect(error.description.contains("flash"))
            #expect(error.suggestedStatusCode == 400)
        }
        do {
            _ = try DTMFInfoDigit(contentType: "application/json", body: "{}")
            Issue.record("json accepted")
        } catch {
            #expect(error.description.contains("application/json"))
            #expect(error.suggestedStatusCode == 415)
        }
    }

    @Test func refusesInvalidDigitValues() {
        #expect(throws: DTMFInfoBodyError.self) { try DTMFInfoDigit(digit: "x") }
        #expect(throws: DTMFInfoBodyError.self) { try DTMFInfoDigit(digit: "5", durationMilliseconds: -1) }
    }
}
