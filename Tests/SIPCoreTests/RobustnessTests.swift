import Testing
import VOSTestSupport
@testable import SIPCore

/// Deterministic mutation loop over the torture corpus: nothing may trap, and whatever parses
/// must survive parse -> serialize -> parse unchanged. The libFuzzer target does the same at scale.
@Suite struct RobustnessTests {

    static let interesting: [UInt8] = Array(" \t\r\n:;,<>\"\\@%/=[]?*0x".utf8) + [0, 0x7F, 0xC3, 0xFF]

    @Test func mutatedTortureMessagesNeverCrash() throws {
        var rng = SeededGenerator(seed: 4475)
        var parsed = 0
        for seed in TortureCorpus.all {
            for _ in 0..<300 {
                var bytes = seed
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                    let index = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: bytes[index] = Self.interesting.randomElement(using: &rng) ?? 0
                    case 1: bytes.remove(at: index)
                    case 2: bytes.insert(Self.interesting.randomElement(using: &rng) ?? 0, at: index)
                    default: bytes = Array(bytes[..<index])
                    }
                }
                let message: SIPMessage
                do { message = try SIPMessage(parsing: bytes) } catch {
                    _ = SIPBadRequest.response(for: bytes, error: error)?.serialized()
                    continue
                }
                parsed += 1
                let again = try SIPMessage(parsing: message.serialized())
                #expect(again == message)
                _ = try? message.vias()
                _ = try? message.contacts()
                if let sdp = try? SDPSession(parsing: message.body) {
                    #expect(try SDPSession(parsing: sdp.serialized()) == sdp)
                }
            }
        }
        #expect(parsed > 0)
    }

    @Test func everyTruncationIsHandled() {
        for seed in TortureCorpus.all {
            for length in 0..<seed.count {
                _ = try? SIPMessage(parsing: Array(seed[..<length]))
            }
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0..<512, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? SIPMessage(parsing: bytes)
            _ = try? SDPSession(parsing: bytes)
            _ = SIPBadRequest.isAnswerable(bytes)
        }
    }
}
