import Testing
@testable import SIPCore

/// RFC 4475 §3.1.1 (valid) and §3.1.2 (invalid) messages.
///
/// Cases a parser cannot decide alone, which belong to the layers above:
/// - §3.1.1.8 dblreq: the REGISTER is accepted and the trailing INVITE is ignored; only the
///   transport knows the datagram boundary, which is why `parsePrefix` reports `consumed`.
/// - §3.1.1.7 longreq: Vias without branch are legal syntax; matching them to a transaction
///   (RFC 2543 rules) is the transaction layer's job.
/// - §3.1.1.2 intmeth / §3.1.1.5 esc02: unknown methods parse; answering 501/405 is the UAS's.
/// - §3.1.2.16 badvers: rejected here with suggested status 505 rather than 400.
/// - §3.1.2.5 scalarlg and §3.1.2.19 bigcode are responses: rejected and never answered.
/// - §3.2 (transaction layer: missing/mismatched branch, unknown Content-Type, unacceptable
///   Accept, ...) and §3.3 (application layer: 420 for unknown Require, Max-Forwards 0, ...)
///   are semantics, not syntax, and are out of scope for this module.
@Suite struct TortureTests {
    static let validNames = TortureCorpus.names("valid")
    static let invalidNames = TortureCorpus.names("invalid")
    static let responses: Set<String> = ["scalarlg", "bigcode"]

    @Test func corpusIsComplete() {
        #expect(Self.validNames.count == 13)
        #expect(Self.invalidNames.count == 19)
    }

    @Test(arguments: validNames)
    func validMessageParsesAndRoundTrips(_ name: String) throws {
        let bytes = TortureCorpus.bytes("valid", name)
        let message = try SIPMessage(parsing: bytes)
        let again = try SIPMessage(parsing: message.serialized())
        #expect(again == message)
        _ = try message.vias()
        _ = try message.from()
        _ = try message.to()
        _ = try message.cseq()
    }

    @Test(arguments: invalidNames)
    func invalidMessageIsRejected(_ name: String) {
        let bytes = TortureCorpus.bytes("invalid", name)
        #expect(throws: SIPParseError.self) { try SIPMessage(parsing: bytes) }
    }

    @Test(arguments: invalidNames)
    func invalidRequestIsAnsweredWithError(_ name: String) throws {
        let bytes = TortureCorpus.bytes("invalid", name)
        var failure: SIPParseError?
        do { _ = try SIPMessage(parsing: bytes) } catch { failure = error }
        let error = try #require(failure)
        let response = SIPBadRequest.response(for: bytes, error: error, toTag: "vos1")
        if Self.responses.contains(name) {
            #expect(response == nil)
            return
        }
        let answer = try #require(response)
        #expect(answer.statusCode == (name == "badvers" ? 505 : 400))
        #expect(answer.callID != nil)
        #expect(answer.firstHeaderValue("Warning")?.hasPrefix("399 vos \"") == true)
        // The answer copies the offending header verbatim, so only its framing is checked.
        let text = String(decoding: answer.serialized(), as: UTF8.self)
        #expect(text.hasPrefix("SIP/2.0 \(answer.statusCode ?? 0) "))
        #expect(text.hasSuffix("Content-Length: 0\r\n\r\n"))
    }

    @Test func shortTortuousInvite() throws {
        let message = try SIPMessage(parsing: TortureCorpus.bytes("valid", "wsinv"))
        #expect(message.method == "INVITE")
        #expect(message.requestURI?.parameters.contains("unknownparam") == true)
        let to = try message.to()
        #expect(to.tag == "1918181833n")
        let from = try message.from()
        #expect(from.displayName == "J Rosenberg \\\"")
        #expect(from.tag == "98asjd8")
        #expect(message.maxForwards == 68)
        #expect(try message.cseq() == SIPCSeq(sequence: 9, method: "INVITE"))
        let vias = try message.vias()
        #expect(vias.map(\.host) == ["192.0.2.2", "spindle.example.com", "192.168.255.111"])
        #expect(vias.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(vias[2].branch == "z9hG4bK30239")
        #expect(message.firstHeaderValue("Subject") == "")
        #expect(message.firstHeaderValue("NewFangledHeader") == "newfangled value continued newfangled value")
        #expect(message.firstHeaderValue("UnknownHeaderWithUnusualValue") == ";;,,;;,;")
        let contact = try #require(try message.contacts().first)
        #expect(contact.displayName == "Quoted string \"\"")
        #expect(contact.parameters["newparam"] == "newvalue")
        #expect(contact.parameters.contains("secondparam"))
        #expect(contact.parameters["q"] == "0.33")
        #expect(message.body.count == 150)
        let sdp = try SDPSession(parsing: message.body)
        #expect(sdp.media.count == 2)
    }

    @Test func wideRangeOfValidCharacters() throws {
        let message = try SIPMessage(parsing: TortureCorpus.bytes("valid", "intmeth"))
        #expect(message.method == "!interesting-Method0123456789_*+`.%indeed'~")
        #expect(message.requestURI?.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(message.requestURI?.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(try message.to().displayName == "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
        #expect(try message.from().displayName == "token1~` token2'+_ token3*%!.-")
        #expect(try message.from().tag == "_token~1'+`*%!-.")
        #expect(message.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        #expect(message.firstHeaderValue("extensionHeader-!.%*+_`'~") == "\u{FEFF}大停電")
    }

    @Test func escapes() throws {
        let esc01 = try SIPMessage(parsing: TortureCorpus.bytes("valid", "esc01"))
        #expect(esc01.requestURI?.decodedUser == "sips:user@example.com")
        #expect(try esc01.to().uri.decodedUser == "user")
        let escnull = try SIPMessage(parsing: TortureCorpus.bytes("valid", "escnull"))
        #expect(try escnull.contacts().map { $0.uri.decodedUser } == ["\u{0}", "\u{0}\u{0}"])
        let esc02 = try SIPMessage(parsing: TortureCorpus.bytes("valid", "esc02"))
        #expect(esc02.method == "RE%47IST%45R")
        #expect(try esc02.contacts().count == 2) // C%6Fntact is an unknown header
    }

    @Test func otherValidCases() throws {
        let lwsdisp = try SIPMessage(parsing: TortureCorpus.bytes("valid", "lwsdisp"))
        #expect(try lwsdisp.from().displayName == "caller")
        let longreq = try SIPMessage(parsing: TortureCorpus.bytes("valid", "longreq"))
        #expect(try longreq.vias().count == 34)
        #expect(try longreq.to().uri.port == 6000)
        let parser = SIPMessageParser()
        let dblreqBytes = TortureCorpus.bytes("valid", "dblreq")
        let (dblreq, consumed) = try parser.parsePrefix(dblreqBytes)
        #expect(dblreq.method == "REGISTER")
        #expect(consumed < dblreqBytes.count)
        let semiuri = try SIPMessage(parsing: TortureCorpus.bytes("valid", "semiuri"))
        #expect(semiuri.requestURI?.user == "user;par=u%40example.net")
        let transports = try SIPMessage(parsing: TortureCorpus.bytes("valid", "transports"))
        #expect(try transports.vias().map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
        let mpart = try SIPMessage(parsing: TortureCorpus.bytes("valid", "mpart01"))
        #expect(mpart.body.count == 553)
        let unreason = try SIPMessage(parsing: TortureCorpus.bytes("valid", "unreason"))
        #expect(unreason.reasonPhrase == "= 2**3 * 5**2 но сто девяносто девять - простое")
        let noreason = try SIPMessage(parsing: TortureCorpus.bytes("valid", "noreason"))
        #expect(noreason.statusCode == 100)
        #expect(noreason.reasonPhrase == "")
    }

    @Test func invalidCasesFailForTheRightReason() throws {
        func failure(_ name: String) -> SIPParseError? {
            do { _ = try SIPMessage(parsing: TortureCorpus.bytes("invalid", name)) } catch { return error }
            return nil
        }
        #expect(failure("badinv01")?.header == "Via")
        #expect(failure("clerr")?.kind == .bodyLengthMismatch)
        #expect(failure("ncl")?.header == "Content-Length")
        #expect(failure("scalar02")?.header == "CSeq")
        #expect(failure("scalarlg")?.header == "CSeq")
        #expect(failure("quotbal")?.header == "To")
        #expect(failure("ltgtruri")?.kind == .invalidURI)
        #expect(failure("lwsruri")?.kind == .invalidStartLine)
        #expect(failure("lwsstart")?.kind == .invalidStartLine)
        #expect(failure("trws")?.kind == .invalidStartLine)
        #expect(failure("escruri")?.kind == .invalidURI)
        #expect(failure("baddate")?.header == "Date")
        #expect(failure("regbadct")?.header == "Contact")
        #expect(failure("badaspec")?.header == "To")
        #expect(failure("baddn")?.header == "From")
        #expect(failure("badvers")?.kind == .unsupportedVersion)
        #expect(failure("mismatch01")?.description ==
                "header 'CSeq': method 'INVITE' does not match request method 'OPTIONS'")
        #expect(failure("mismatch02")?.header == "CSeq")
        #expect(failure("bigcode")?.kind == .invalidStartLine)
    }
}
