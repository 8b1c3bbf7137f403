import Foundation
import Testing
@testable import VOSModel

/// Dial plans: one test per example of the P-Asserted-Identity seed article and requirements §8,
/// written as an operator would type it at `--caller-rewrite`/`--callee-rewrite`.
@Suite struct DialPlanSeedExampleTests {
    func plan(_ text: String) throws -> DialPlan { try DialPlan(parsing: text, field: "--caller-rewrite") }

    @Test func addCountryCodeReplacingTheLeadingZero() throws {
        // "Add country code: 01712345678 -> +8801712345678"; requirements: replace leading 0 by +880.
        #expect(try plan("0:+880").apply(to: "01712345678") == .number("+8801712345678"))
    }

    @Test func removeLeadingZero() throws {
        // "Remove leading zero: 01712345678 -> 1712345678 (vendor rejects leading 0)".
        #expect(try plan("0:").apply(to: "01712345678") == .number("1712345678"))
    }

    @Test func addPlusPrefix() throws {
        // "Add + prefix: 8801712345678 -> +8801712345678 (E.164 with plus sign)".
        #expect(try plan(":+").apply(to: "8801712345678") == .number("+8801712345678"))
        // Numbers already in E.164 are kept by a rule that matches and changes nothing.
        #expect(try plan("+:+,:+").apply(to: "+8801712345678") == .number("+8801712345678"))
    }

    @Test func addTechPrefix() throws {
        // "Add tech prefix: 1712345678 -> 991712345678 (vendor routing prefix)".
        #expect(try plan(":99").apply(to: "1712345678") == .number("991712345678"))
    }

    @Test func prependCountryCode() throws {
        // "A dial plan can prepend the country code (e.g., +880) to the caller number".
        #expect(try plan(":+880").apply(to: "1712345678") == .number("+8801712345678"))
    }

    @Test func stripLeadingZeros() throws {
        // "A dial plan can strip leading zeros": the longer prefix first, the first match wins.
        let zeros = try plan("00:,0:")
        #expect(zeros.apply(to: "001712345678") == .number("1712345678"))
        #expect(zeros.apply(to: "01712345678") == .number("1712345678"))
        #expect(zeros.apply(to: "1712345678") == .number("1712345678"))
    }

    @Test func convertBetweenE164AndNational() throws {
        // "Converting between E.164 format and national format as required by the vendor".
        let toNational = try plan("+880:0,880:0")
        #expect(toNational.apply(to: "+8801712345678") == .number("01712345678"))
        #expect(toNational.apply(to: "8801712345678") == .number("01712345678"))
        let toE164 = try plan("+:+,00:+,0:+880")
        #expect(toE164.apply(to: "01712345678") == .number("+8801712345678"))
        #expect(toE164.apply(to: "00441234") == .number("+441234"))
        #expect(toE164.apply(to: "+441234") == .number("+441234"))
    }

    @Test func stripANumberOfDigits() throws {
        // The issue: "strips a number of digits": one x per digit, any digits.
        #expect(try plan("xxx:").apply(to: "9914471234") == .number("4471234"))
        #expect(try plan("xxx:0044").apply(to: "123771234") == .number("0044771234"))
    }

    @Test func deny() throws {
        // The issue: "or denies".
        let premium = try plan("900:!,0:+880")
        #expect(premium.apply(to: "900123") == .denied(by: .deny("900")))
        #expect(premium.apply(to: "0171") == .number("+880171"))
        #expect(try plan(":!").apply(to: "123") == .denied(by: .deny("")))
    }
}

@Suite struct DialPlanTests {
    @Test func firstMatchWinsAndUnmatchedNumbersStayAsTheyAre() throws {
        let plan = try DialPlan(parsing: "01:1, 0:+880 ,44:0044", field: "f")
        #expect(plan.apply(to: "0171") == .number("171"))
        #expect(plan.apply(to: "0271") == .number("+880271"))
        #expect(plan.apply(to: "4471") == .number("004471"))
        #expect(plan.apply(to: "3371") == .number("3371"))
        #expect(plan.apply(to: "0") == .number("+880"))
        #expect(plan.apply(to: "") == .number(""))
        #expect(DialPlan().apply(to: "0171") == .number("0171"))
    }

    @Test func wildcardNeedsACharacterToMatch() throws {
        let plan = try DialPlan(parsing: "xX:", field: "f")
        #expect(plan.text == "xx:", "X is stored as x")
        #expect(plan.apply(to: "1") == .number("1"))
        #expect(plan.apply(to: "+44") == .number("4"))
    }

    @Test func textRoundTrips() throws {
        for text in ["", "0:+880", "0:,900:!,xx:0044,:99", "+:+,:!"] {
            #expect(try DialPlan(parsing: text, field: "f").text == text)
        }
    }

    @Test(arguments: [
        ("0+880", "--callee-rewrite rule 1 '0+880'"),
        ("0:+880,9:abc", "--callee-rewrite rule 2 '9:abc'"),
        ("0a:1", "--callee-rewrite rule 1 '0a:1'"),
        (":", "--callee-rewrite rule 1 ':'"),
        ("0:+880,,1:2", "--callee-rewrite rule 2"),
        ("0:1:2", "--callee-rewrite rule 1 '0:1:2'"),
        ("9:!!", "--callee-rewrite rule 1 '9:!!'"),
        ("0:+880,01:1", "rule 2 '01:1' can never apply: rule 1 '0:+880'"),
        (":99,0:", "rule 2 '0:' can never apply: rule 1 ':99'"),
        ("x:,4:0", "rule 2 '4:0' can never apply: rule 1 'x:'"),
        ("012345678901234567890123456789012:1", "rule 1"),
    ])
    func badRulesAreRefusedWithTheRuleAndReasonNamed(text: String, message: String) {
        do {
            _ = try DialPlan(parsing: text, field: "--callee-rewrite")
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func laterRulesWithALongerOrDifferentFromAreFine() throws {
        _ = try DialPlan(parsing: "01:1,0:+880,x1:5,12:3", field: "f")
        #expect(throws: ModelError.self) { try DialPlan(parsing: Array(repeating: "1:2", count: 65).enumerated().map { "\($0.offset)9:2" }.joined(separator: ","), field: "f") }
    }

    @Test func storedAsRuleObjects() throws {
        let plan = try DialPlan(parsing: "0:+880,900:!", field: "f")
        let json = String(decoding: try JSONRoundTrip.encode(plan), as: UTF8.self)
        #expect(json == #"[{"from":"0","to":"+880"},{"deny":true,"from":"900"}]"#)
        #expect(try JSONRoundTrip.decode(DialPlan.self, Data(json.utf8)) == plan)
    }

    @Test(arguments: [
        (#"{"strip":1,"add":"0044"}"#, "x:0044", "123", "004423"),
        (#"{"strip":0,"add":"+880"}"#, ":+880", "171", "+880171"),
        (#"{"strip":2,"add":""}"#, "xx:", "0171", "71"),
        (#"{"strip":0,"add":""}"#, "", "0171", "0171"),
        (#"{}"#, "", "0171", "0171"),
    ])
    func legacyStripAddRecordsDecodeAsTheEquivalentRule(json: String, rules: String, number: String, result: String) throws {
        let plan = try JSONRoundTrip.decode(DialPlan.self, Data(json.utf8))
        #expect(plan.text == rules)
        #expect(plan.apply(to: number) == .number(result))
    }
}

/// Stored gateways: records written before dial plans, pools and identity trust still load, and
/// every stored property survives a round trip (so a field added without decoding fails here).
@Suite struct GatewayDecodingTests {
    static let legacyMapping = #"""
    {"account":"acme","authentication":"ip","blacklistGroups":[],"calleeFilter":{"allow":[],"deny":["4490"]},
     "calleeRewrite":{"add":"","strip":0},"callerFilter":{"allow":[],"deny":[]},"callerRewrite":{"add":"+","strip":0},
     "callerSource":"remote-party-id","codecs":{"codecs":["PCMA","PCMU","G729"],"g729Mode":"auto","mode":"auto"},
     "concurrentLimit":30,"cpsLimit":10,"dtmf":{"mediaContainsInband":false,"mustUseInbandSend":false,"receive":"all",
     "rfc2833Events":"0-16","rfc2833PayloadType":101,"send":"auto","usePeerRFC2833Capability":true},"enabled":true,
     "ips":["203.0.113.5"],"name":"cust1","port":5060,"supportPrivacy":false,"whitelistGroups":[]}
    """#

    static let legacyRouting = #"""
    {"address":{"host":"198.51.100.7","port":5070,"transport":"udp"},"calleeFilter":{"allow":[],"deny":[]},
     "calleeRewrite":{"add":"0044","strip":1},"callerFilter":{"allow":[],"deny":[]},"callerRewrite":{"add":"","strip":0},
     "codecs":{"codecs":["PCMA"],"g729Mode":"auto","mode":"specified"},"conversationLimit":0,"cpsLimit":5,
     "dtmf":{"mediaContainsInband":false,"mustUseInbandSend":false,"receive":"all","rfc2833Events":"0-16",
     "rfc2833PayloadType":101,"send":"auto","usePeerRFC2833Capability":true},"enabled":true,"lineLimit":30,"name":"ven1",
     "optionsCheck":false,"pAssertedIdentity":"caller","pPreferredIdentity":"none","prefixes":["44","33"],"priority":2,
     "privacy":"id","protectRoute":true,"switchUntilConnect":false}
    """#

    @Test func legacyMappingGatewayLoads() throws {
        let gateway = try JSONRoundTrip.decode(MappingGateway.self, Data(Self.legacyMapping.utf8))
        #expect(gateway.name == "cust1" && gateway.account == "acme" && gateway.cpsLimit == 10 && gateway.concurrentLimit == 30)
        #expect(gateway.callerNumberSource == .rpid)
        #expect(gateway.callerRewrite.text == ":+")
        #expect(gateway.calleeRewrite.isEmpty)
        #expect(gateway.calleeFilter.deny == ["4490"])
        #expect(gateway.trustedIdentity == false && gateway.supportPrivacy == false && gateway.conversationLimit == 0)
        let again = try JSONRoundTrip.decode(MappingGateway.self, try JSONRoundTrip.encode(gateway))
        #expect(again == gateway)
        #expect(gateway.codecs == CodecSettings() && gateway.dtmf == DTMFSettings(), "the stored codec and DTMF settings were the defaults")
        let keys = try #require(try JSONSerialization.jsonObject(with: try JSONRoundTrip.encode(gateway)) as? [String: Any]).keys
        #expect(!keys.contains("whitelistGroups") && !keys.contains("callerSource"))
        #expect(keys.contains("callerNumberSource") && keys.contains("codecs") && keys.contains("dtmf"))
    }

    @Test func legacyRoutingGatewayLoads() throws {
        let gateway = try JSONRoundTrip.decode(RoutingGateway.self, Data(Self.legacyRouting.utf8))
        #expect(gateway.name == "ven1" && gateway.priority == 2 && gateway.lineLimit == 30 && !gateway.switchUntilConnect)
        #expect(gateway.calleeRewrite.text == "x:0044")
        #expect(gateway.calleeRewrite.apply(to: "447700") == .number("004447700"))
        #expect(gateway.pAssertedIdentity == .caller && gateway.privacy == .id)
        #expect(gateway.callerPool == nil)
        #expect(gateway.codecs.mode == .specified && gateway.codecs.codecs == [.pcma] && gateway.codecs.usable == [.pcma])
        #expect(gateway.codecs.annexB == false, "records written before annexB get the default, off")
        #expect(gateway.dtmf.rfc2833PayloadType == 101 && gateway.dtmf.eventRange == 0...16)
        let keys = try #require(try JSONSerialization.jsonObject(with: try JSONRoundTrip.encode(gateway)) as? [String: Any]).keys
        #expect(keys.contains("callerFilter") && keys.contains("listGroups") && keys.contains("codecs") && keys.contains("dtmf"))
    }

    @Test func allowConversionLoadsAsConvertAndIsWrittenAsConvert() throws {
        let json = Self.legacyRouting.replacingOccurrences(of: #""mode":"specified""#, with: #""mode":"allow-conversion""#)
        let gateway = try JSONRoundTrip.decode(RoutingGateway.self, Data(json.utf8))
        #expect(gateway.codecs.mode == .convert)
        let written = try #require(try JSONSerialization.jsonObject(with: try JSONRoundTrip.encode(gateway)) as? [String: Any])
        #expect((written["codecs"] as? [String: Any])?["mode"] as? String == "convert")
        let bad = Self.legacyRouting.replacingOccurrences(of: #""mode":"specified""#, with: #""mode":"transcode""#)
        #expect(throws: DecodingError.self) { try JSONRoundTrip.decode(RoutingGateway.self, Data(bad.utf8)) }
    }

    @Test func unknownCallerSourceIsACorruptRecord() {
        let json = Self.legacyMapping.replacingOccurrences(of: "remote-party-id", with: "carrier-pigeon")
        #expect(throws: DecodingError.self) { try JSONRoundTrip.decode(MappingGateway.self, Data(json.utf8)) }
    }

    static func everyFieldSet() throws -> (MappingGateway, RoutingGateway) {
        var mapping = MappingGateway(name: "m", ips: [try IPAddress(parsing: "192.0.2.9")])
        mapping.port = 5070
        mapping.authentication = .ipPort
        // Set only to prove it round-trips; a real gateway with a credential authenticates by password.
        mapping.credential = DigestCredential(username: "3001", realm: "vos", ha1: ["MD5": String(repeating: "a", count: 32)])
        mapping.account = "acme"
        mapping.cpsLimit = 3
        mapping.concurrentLimit = 4
        mapping.callerFilter = PrefixFilter(allow: ["1"], deny: ["19"])
        mapping.calleeFilter = PrefixFilter(allow: ["44"], deny: ["449"])
        mapping.callerRewrite = try DialPlan(parsing: "0:+880", field: "f")
        mapping.calleeRewrite = try DialPlan(parsing: "900:!", field: "f")
        mapping.listGroups = ["fraud"]
        mapping.mediaProxy = .on
        mapping.callerNumberSource = .pai
        mapping.supportPrivacy = true
        mapping.trustedIdentity = true
        mapping.conversationLimit = 3600
        mapping.enabled = false
        mapping.advertise = try IPAddress(parsing: "203.0.113.1")
        mapping.sessionTimer = false
        mapping.reliableProvisional = .require
        mapping.codecs.mode = .convert
        mapping.codecs.codecs = [.g729, .pcma]
        mapping.codecs.annexB = true
        mapping.codecs.g729Mode = .g729a
        mapping.dtmf.receive = .rfc2833
        mapping.dtmf.send = .info
        mapping.dtmf.rfc2833PayloadType = 96
        mapping.dtmf.rfc2833Events = "0-15"
        mapping.dtmf.usePeerRFC2833Capability = false
        mapping.dtmf.mediaContainsInband = true
        mapping.dtmf.mustUseInbandSend = true
        var routing = RoutingGateway(name: "r", address: SIPAddress(host: "198.51.100.9", port: 5080, transport: .tcp), prefixes: ["44"])
        routing.priority = 3
        routing.lineLimit = 10
        routing.cpsLimit = 2
        routing.switchUntilConnect = false
        routing.stopSwitchingCodes = [486]
        routing.protectRoute = true
        routing.optionsCheck = false
        routing.calleeRewrite = try DialPlan(parsing: "xx:", field: "f")
        routing.callerRewrite = try DialPlan(parsing: ":99", field: "f")
        routing.callerPool = CallerNumberPool(numbers: ["8801", "8802"], multiplexes: 2)
        routing.callerFilter = PrefixFilter(allow: ["1"], denyGroups: ["premium"])
        routing.calleeFilter = PrefixFilter(deny: ["449"], allowGroups: ["uk-mobile"])
        routing.listGroups = ["fraud", "vip"]
        routing.mediaProxy = .off
        routing.clearingAccount = "vendor"
        routing.conversationLimit = 60
        routing.pAssertedIdentity = .caller
        routing.pPreferredIdentity = .passthrough
        routing.privacy = .id
        routing.enabled = false
        routing.advertise = try IPAddress(parsing: "203.0.113.2")
        routing.sessionTimer = false
        routing.reliableProvisional = .off
        routing.signalling.userPhone = true
        routing.signalling.headers = ["X-Carrier: acme"]
        routing.signalling.forwardHeaders = ["*"]
        routing.signalling.redirects = .follow
        routing.codecs.mode = .specified
        routing.codecs.codecs = [.pcmu]
        routing.dtmf.send = .inband
        routing.schedule = "office"
        routing.group = "uk-carriers"
        return (mapping, routing)
    }

    /// The labels of stored properties whose value equals the default's.
    func unchanged<Value>(_ value: Value, from defaults: Value) -> [String] {
        zip(Mirror(reflecting: value).children, Mirror(reflecting: defaults).children).compactMap { field, original in
            String(describing: field.value) == String(describing: original.value) ? field.label : nil
        }
    }

    @Test func everyStoredFieldRoundTrips() throws {
        let (mapping, routing) = try Self.everyFieldSet()
        // Set every stored property in everyFieldSet() when adding one, so this round trip covers it.
        #expect(unchanged(mapping, from: MappingGateway(name: "other", ips: [try IPAddress(parsing: "192.0.2.99")])) == [])
        #expect(unchanged(routing, from: RoutingGateway(name: "other", address: SIPAddress(host: "198.51.100.99"), prefixes: ["1"])) == [])
        #expect(try JSONRoundTrip.decode(MappingGateway.self, try JSONRoundTrip.encode(mapping)) == mapping)
        #expect(try JSONRoundTrip.decode(RoutingGateway.self, try JSONRoundTrip.encode(routing)) == routing)
    }

    @Test func poolsAreValidated() throws {
        var routing = RoutingGateway(name: "r", address: SIPAddress(host: "198.51.100.9"), prefixes: ["44"])
        routing.callerPool = CallerNumberPool(numbers: ["8801", "8801"])
        #expect(throws: ModelError.self) { try routing.validate() }
        routing.callerPool = CallerNumberPool(numbers: [])
        #expect(throws: ModelError.self) { try routing.validate() }
        routing.callerPool = CallerNumberPool(numbers: ["88a"])
        #expect(throws: ModelError.self) { try routing.validate() }
        routing.callerPool = CallerNumberPool(numbers: ["8801"], multiplexes: -1)
        #expect(throws: ModelError.self) { try routing.validate() }
        routing.callerPool = CallerNumberPool(numbers: ["8801", "+8802"], multiplexes: 0)
        try routing.validate()
    }

    @Test func mappingConversationLimitIsValidated() throws {
        var mapping = MappingGateway(name: "m", ips: [try IPAddress(parsing: "192.0.2.9")])
        mapping.conversationLimit = 86_400 * 7 + 1
        #expect(throws: ModelError.self) { try mapping.validate() }
        mapping.conversationLimit = 3600
        try mapping.validate()
    }
}
