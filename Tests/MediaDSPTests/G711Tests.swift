/// G.711 A-law and u-law: known code words, bit-exactness against spandsp's reference inlines,
/// round-trip error bounds and the buffer functions.
import CSpanDSP
import MediaDSP
import Testing

@Suite struct G711Tests {
    @Test func silenceAndFullScaleCodeWords() {
        #expect(G711.encodeALaw(0) == 0xD5)
        #expect(G711.encodeULaw(0) == 0xFF)
        #expect(G711.decodeALaw(0xD5) == 8)
        #expect(G711.decodeULaw(0xFF) == 0)
        #expect(G711.encodeULaw(.max) == 0x80)
        #expect(G711.encodeULaw(.min) == 0x00)
        #expect(G711.encodeALaw(.max) == 0xAA)
        #expect(G711.encodeALaw(.min) == 0x2A)
        #expect(G711.decodeULaw(0x80) == 32124)
        #expect(G711.decodeALaw(0xAA) == 32256)
    }

    @Test func matchesSpanDSPForEverySample() {
        var aLawMismatches = 0
        var uLawMismatches = 0
        for value in Int32(Int16.min)...Int32(Int16.max) {
            let sample = Int16(value)
            if G711.encodeALaw(sample) != linear_to_alaw(value) { aLawMismatches += 1 }
            if G711.encodeULaw(sample) != linear_to_ulaw(value) { uLawMismatches += 1 }
        }
        #expect(aLawMismatches == 0)
        #expect(uLawMismatches == 0)
        for code in UInt8.min...UInt8.max {
            #expect(G711.decodeALaw(code) == alaw_to_linear(code))
            #expect(G711.decodeULaw(code) == ulaw_to_linear(code))
        }
    }

    @Test func roundTripErrorIsWithinHalfAQuantisationStep() {
        // The widest step is 1024 (A-law) and 1024 (u-law) in the top segment, i.e. 1/32 of the
        // segment's start; near zero the steps are 16 (A-law) and 8 (u-law).
        var worstALaw = 0
        var worstULaw = 0
        for value in Int(Int16.min)...Int(Int16.max) {
            let sample = Int16(value)
            let aError = abs(Int(G711.decodeALaw(G711.encodeALaw(sample))) - value)
            let uError = abs(Int(G711.decodeULaw(G711.encodeULaw(sample))) - value)
            #expect(aError <= max(8, abs(value) / 32 + 1), "A-law \(value)")
            #expect(uError <= (abs(value) + 132) / 32 + 1 || abs(value) > 32124, "u-law \(value)")
            worstALaw = max(worstALaw, aError)
            if abs(value) <= 32124 { worstULaw = max(worstULaw, uError) }
        }
        #expect(worstALaw == 512)
        #expect(worstULaw <= 512)
    }

    @Test func everyALawCodeSurvivesDecodeThenEncode() {
        for code in UInt8.min...UInt8.max {
            #expect(G711.encodeALaw(G711.decodeALaw(code)) == code)
        }
        // u-law has two zeros (0x7F and 0xFF); every other code is its own round trip.
        for code in UInt8.min...UInt8.max where code != 0x7F {
            #expect(G711.encodeULaw(G711.decodeULaw(code)) == code)
        }
    }

    @Test func bufferFunctionsMatchSampleFunctions() {
        let samples: [Int16] = (0..<400).map { Int16(truncatingIfNeeded: $0 * 331 - 60000) }
        for law in [G711.Law.aLaw, .uLaw] {
            var encoded = [UInt8](repeating: 0, count: samples.count)
            samples.withUnsafeBufferPointer { source in
                encoded.withUnsafeMutableBytes { G711.encode(law, from: source.baseAddress!, count: source.count, into: $0.baseAddress!) }
            }
            #expect(encoded == samples.map { G711.encode(law, $0) })
            var decoded = [Int16](repeating: 0, count: encoded.count)
            encoded.withUnsafeBytes { bytes in
                decoded.withUnsafeMutableBufferPointer { G711.decode(law, from: bytes, into: $0.baseAddress!) }
            }
            #expect(decoded == encoded.map { G711.decode(law, $0) })
        }
    }

    @Test func lawFollowsCodec() {
        #expect(G711.Law(.pcma) == .aLaw)
        #expect(G711.Law(.pcmu) == .uLaw)
        #expect(G711.Law(.g729) == nil)
    }
}
