/// G.729 (annex A, optionally annex B VAD/DTX/CNG) encoder and decoder channels over bcg729.
/// One channel is one direction of one call: each keeps the codec's predictor state between frames.
import CBcg729

/// Frame sizes shared by the encoder and decoder.
public enum G729Frame {
    /// One frame is 10 ms at 8 kHz.
    public static let samples = 80
    /// A voice frame.
    public static let voiceBytes = 10
    /// An annex B silence insertion descriptor (comfort-noise parameters).
    public static let sidBytes = 2
}

public final class G729Encoder {
    private let context: OpaquePointer
    /// Annex B: the encoder detects silence and then sends SID frames or nothing.
    public let annexB: Bool

    public init(annexB: Bool = false) throws(MediaDSPError) {
        guard let context = initBcg729EncoderChannel(annexB ? 1 : 0) else {
            throw .codecUnavailable(.g729, reason: "bcg729 could not allocate an encoder channel")
        }
        self.context = context
        self.annexB = annexB
    }

    deinit { closeBcg729EncoderChannel(context) }

    /// Encodes one 10 ms frame (80 samples) into `frame`, which must hold 10 bytes. Returns the
    /// bytes written: 10 (voice), or with annex B also 2 (SID) or 0 (nothing to transmit).
    public func encode(_ samples: UnsafePointer<Int16>, into frame: UnsafeMutablePointer<UInt8>) -> Int {
        var length: UInt8 = 0
        bcg729Encoder(context, samples, frame, &length)
        return Int(length)
    }
}

public final class G729Decoder {
    private let context: OpaquePointer

    public init() throws(MediaDSPError) {
        guard let context = initBcg729DecoderChannel() else {
            throw .codecUnavailable(.g729, reason: "bcg729 could not allocate a decoder channel")
        }
        self.context = context
    }

    deinit { closeBcg729DecoderChannel(context) }

    /// Decodes one frame into `samples` (80 of them): a 10-byte voice frame, or a 2-byte SID frame
    /// (comfort noise). Returns false, and conceals instead, for any other length: the caller
    /// validated the payload, so that is a bug upstream, and concealment keeps the timeline whole.
    @discardableResult
    public func decode(_ frame: UnsafeRawBufferPointer, into samples: UnsafeMutablePointer<Int16>) -> Bool {
        guard let base = frame.baseAddress?.assumingMemoryBound(to: UInt8.self),
              frame.count == G729Frame.voiceBytes || frame.count == G729Frame.sidBytes else {
            conceal(into: samples)
            return false
        }
        let isSID: UInt8 = frame.count == G729Frame.sidBytes ? 1 : 0
        bcg729Decoder(context, base, UInt8(frame.count), 0, isSID, 0, samples)
        return true
    }

    /// Produces one 10 ms frame for a lost one (G.729 frame erasure concealment), from the
    /// decoder's state; successive calls fade towards silence.
    public func conceal(into samples: UnsafeMutablePointer<Int16>) {
        bcg729Decoder(context, nil, 0, 1, 0, 0, samples)
    }
}
