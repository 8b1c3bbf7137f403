import Testing
@testable import VOSModel

/// SS_HEP_* and SS_SIP_TRACE_MEMORY: ranges, the collector address's forms, and HEP needing an address.
@Suite struct CaptureParameterTests {
    @Test func defaultsLeaveHEPOffAndKeepATraceRing() {
        let set = ParameterSet.defaults
        #expect(!set.bool(.hepEnable))
        #expect(set.text(.hepAddress) == "")
        #expect(set.int(.hepCaptureID) == 1)
        #expect(set.text(.hepPassword) == "")
        #expect(set.int(.sipTraceMemory) == 16)
    }

    @Test func theCollectorAddressIsOneIPAndPort() throws {
        var set = ParameterSet()
        try set.set(.hepAddress, to: " 192.0.2.10:9060 ")
        #expect(set.text(.hepAddress) == "192.0.2.10:9060")
        try set.set(.hepAddress, to: "[2001:DB8::7]:9060")
        #expect(set.text(.hepAddress) == "[2001:db8::7]:9060", "canonical IPv6 in brackets")
        for wrong in ["192.0.2.10", "192.0.2.10:0", "192.0.2.10:70000", "homer.example:9060", "2001:db8::7:9060", "[2001:db8::7]", "[192.0.2.1:9060"] {
            #expect(throws: ModelError.self, "\(wrong)") { try set.set(.hepAddress, to: wrong) }
        }
        try set.set(.hepAddress, to: "")
        #expect(set.text(.hepAddress) == "")
    }

    @Test func hepNeedsAnAddressFirst() throws {
        var set = ParameterSet()
        #expect(throws: ModelError.self) { try set.set(.hepEnable, to: "1") }
        try set.set(.hepAddress, to: "127.0.0.1:9060")
        try set.set(.hepEnable, to: "1")
        #expect(throws: ModelError.self, "clearing the address while HEP is on") { try set.reset(.hepAddress) }
        try set.set(.hepEnable, to: "0")
        try set.reset(.hepAddress)
    }

    @Test func captureIDAndRingSizeRanges() throws {
        var set = ParameterSet()
        try set.set(.hepCaptureID, to: "4294967295")
        #expect(set.int(.hepCaptureID) == 4_294_967_295)
        #expect(throws: ModelError.self) { try set.set(.hepCaptureID, to: "4294967296") }
        #expect(throws: ModelError.self) { try set.set(.sipTraceMemory, to: "2048") }
        try set.set(.sipTraceMemory, to: "0")
        #expect(throws: ModelError.self) { try set.set(.hepPassword, to: String(repeating: "x", count: 65)) }
    }
}
