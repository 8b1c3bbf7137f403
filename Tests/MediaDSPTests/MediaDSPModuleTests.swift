/// Codec facts and leg format validation: what the rest of MediaDSP trusts once constructed.
import MediaDSP
import Testing

@Suite struct MediaDSPModuleTests {
    @Test func codecFacts() {
        #expect(AudioCodec.allCases.map(\.staticPayloadType) == [8, 0, 18])
        #expect(AudioCodec.allCases.map(\.bytesPer10Milliseconds) == [80, 80, 10])
        #expect(AudioCodec.samplesPer10Milliseconds == 80)
        #expect(AudioCodec(encodingName: "pcma") == .pcma)
        #expect(AudioCodec(encodingName: "PcMu") == .pcmu)
        #expect(AudioCodec(encodingName: "g729") == .g729)
        #expect(AudioCodec(encodingName: "G722") == nil)
        #expect(AudioCodec(encodingName: "") == nil)
    }

    @Test func validFormats() throws {
        let format = try LegMediaFormat(codec: .g729, ptimeMilliseconds: 40, telephoneEventPayloadType: 101, annexB: true)
        #expect(format.payloadType == 18)
        #expect(format.samplesPerPacket == 320)
        #expect(format.telephoneEventRange == 0...16)
        #expect(try LegMediaFormat(codec: .pcmu, ptimeMilliseconds: 25).samplesPerPacket == 200)
        #expect(try LegMediaFormat(codec: .pcma, payloadType: 96).payloadType == 96)
    }

    @Test func invalidFormatsSayWhatAndWhy() {
        let cases: [(String, () throws(MediaDSPError) -> LegMediaFormat)] = [
            ("ptime", { () throws(MediaDSPError) in try LegMediaFormat(codec: .g729, ptimeMilliseconds: 25) }),
            ("ptime", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcma, ptimeMilliseconds: 70) }),
            ("ptime", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcma, ptimeMilliseconds: 5) }),
            ("payload type", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcmu, payloadType: 8) }),
            ("payload type", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcmu, payloadType: 128) }),
            ("payload type", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcmu, payloadType: 73) }),
            ("telephone-event", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcma, payloadType: 101, telephoneEventPayloadType: 101) }),
            ("telephone-event", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcma, telephoneEventPayloadType: 8) }),
            ("annexB", { () throws(MediaDSPError) in try LegMediaFormat(codec: .pcma, annexB: true) }),
        ]
        for (field, make) in cases {
            do {
                let format = try make()
                Issue.record("accepted \(format)")
            } catch {
                #expect(error.description.contains(field), "\(error)")
                #expect(error.description.contains("not usable"), "\(error)")
            }
        }
    }
}
