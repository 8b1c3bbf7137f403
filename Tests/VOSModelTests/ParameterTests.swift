import Testing
@testable import VOSModel

@Suite struct ParameterTests {
    @Test func defaultsMatchTheRequirements() {
        let set = ParameterSet.defaults
        #expect(set.int(.mediaProxyMode) == 3)
        #expect(set.int(.mediaProxyPortStart) == 10000 && set.int(.mediaProxyPortEnd) == 60000)
        #expect(set.int(.rtpTimeout) == 30)
        #expect(set.int(.qosRTP) == 46 && set.int(.qosSignal) == 24)
        #expect(set.int(.maxCPS) == 200)
        #expect(set.int(.sipTimeoutInvite) == 10 && set.int(.sipTimeoutRinging) == 120)
        #expect(set.int(.sipOptionsCheckPeriod) == 60)
        #expect(set.int(.sessionTTL) == 600 && set.int(.sessionMinSE) == 90)
        #expect(set.text(.natKeepAliveMessage) == "HELLO")
        #expect(set.int(.echoCancelTail) == 128 && set.int(.voiceGain) == 0)
        #expect(set.list(.firewallScannerUserAgents).contains("friendly-scanner"))
    }

    @Test func everyDefaultIsValid() throws {
        for parameter in SystemParameter.allCases {
            #expect(try parameter.normalize(parameter.definition.defaultValue) == parameter.definition.defaultValue, "\(parameter.rawValue)")
        }
        try ParameterSet.defaults.validateTogether()
    }

    @Test func outOfRangeNamesTheRange() {
        var set = ParameterSet()
        #expect(throws: ModelError.outOfRange(field: "SS_QOS_RTP", value: "64", range: "0-63")) {
            try set.set(.qosRTP, to: "64")
        }
        #expect(ModelError.outOfRange(field: "SS_QOS_RTP", value: "64", range: "0-63").description == "SS_QOS_RTP 64 is out of range: allowed 0-63")
        #expect(throws: ModelError.self) { try set.set(.echoCancelTail, to: "100") }
        #expect(throws: ModelError.self) { try set.set(.voiceGain, to: "-11") }
        #expect(throws: ModelError.self) { try set.set(.maxCPS, to: "many") }
        #expect(set == ParameterSet(), "a refused value changes nothing")
    }

    @Test func crossParameterRules() throws {
        var set = ParameterSet()
        #expect(throws: ModelError.self) { try set.set(.mediaProxyPortStart, to: "10001") }
        #expect(throws: ModelError.self) { try set.set(.mediaProxyPortEnd, to: "9000") }
        #expect(throws: ModelError.self) { try set.set(.jitterBufferMin, to: "100") }
        try set.set(.mediaProxyPortStart, to: "20000")
        try set.set(.mediaProxyPortEnd, to: "20003")
        #expect(set.int(.mediaProxyPortEnd) == 20003)
    }

    @Test func keysAreCaseInsensitiveAndListsCanonical() throws {
        #expect(try SystemParameter(key: "ss_qos_rtp") == .qosRTP)
        #expect(throws: ModelError.self) { try SystemParameter(key: "SS_NOPE") }
        var set = ParameterSet()
        try set.set(.firewallManagementSubnets, to: " 10.0.0.0/8 , 2001:db8::/32")
        #expect(set.text(.firewallManagementSubnets) == "10.0.0.0/8,2001:db8::/32")
        #expect(throws: ModelError.self) { try set.set(.firewallSIPPorts, to: "5060,70000") }
        try set.set(.verifyClearingCustomerRemainMoneyLimit, to: "12.5")
        #expect(set.money(.verifyClearingCustomerRemainMoneyLimit) == (try Money(parsing: "12.5")))
    }
}
