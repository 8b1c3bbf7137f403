/// ITU-T G.711 A-law and u-law companding between 16-bit linear PCM and 8-bit code words,
/// bit-exact with the ITU G.191 reference (one's complement of negative samples before
/// quantising, as spandsp does).
public enum G711 {
    /// The two companding laws. A separate type from `AudioCodec` so a G.729 value can never reach
    /// the sample loops.
    public enum Law: Sendable, Equatable {
        case aLaw
        case uLaw

        /// The law of a G.711 codec; nil for G.729.
        public init?(_ codec: AudioCodec) {
            switch codec {
            case .pcma: self = .aLaw
            case .pcmu: self = .uLaw
            case .g729: return nil
            }
        }
    }

    // Decoding is a 256-entry lookup. Encoding is computed instead: it is a leading-zero count and
    // two shifts, cheaper than a 64 KiB table that would evict the relay's session state from cache.
    static let aLawToLinear: [Int16] = (0...255).map { decodeALawArithmetic(UInt8($0)) }
    static let uLawToLinear: [Int16] = (0...255).map { decodeULawArithmetic(UInt8($0)) }

    private static let aLawInversionMask: Int = 0x55
    private static let uLawBias: Int = 0x84

    // MARK: One sample

    public static func encodeALaw(_ sample: Int16) -> UInt8 {
        var linear = Int(sample)
        let mask: Int
        if linear >= 0 {
            mask = aLawInversionMask | 0x80
        } else {
            mask = aLawInversionMask
            linear = -linear - 1
        }
        let segment = topBit(linear | 0xFF) - 7
        // A 16-bit magnitude never exceeds 0x7FFF, so the segment is at most 7.
        let shift = segment == 0 ? 4 : segment + 3
        return UInt8(truncatingIfNeeded: ((segment << 4) | ((linear >> shift) & 0x0F)) ^ mask)
    }

    public static func encodeULaw(_ sample: Int16) -> UInt8 {
        var linear = Int(sample)
        let mask: Int
        if linear >= 0 {
            linear = uLawBias + linear
            mask = 0xFF
        } else {
            linear = uLawBias - linear
            mask = 0x7F
        }
        let segment = topBit(linear | 0xFF) - 7
        if segment >= 8 { return UInt8(truncatingIfNeeded: 0x7F ^ mask) }
        return UInt8(truncatingIfNeeded: ((segment << 4) | ((linear >> (segment + 3)) & 0x0F)) ^ mask)
    }

    public static func decodeALaw(_ code: UInt8) -> Int16 { aLawToLinear[Int(code)] }

    public static func decodeULaw(_ code: UInt8) -> Int16 { uLawToLinear[Int(code)] }

    public static func encode(_ law: Law, _ sample: Int16) -> UInt8 {
        law == .aLaw ? encodeALaw(sample) : encodeULaw(sample)
    }

    public static func decode(_ law: Law, _ code: UInt8) -> Int16 {
        law == .aLaw ? decodeALaw(code) : decodeULaw(code)
    }

    // MARK: Buffers (the packet path: no allocation, one table lookup per sample)

    /// Decodes every byte of `payload` into `samples`, which must hold `payload.count` samples.
    public static func decode(_ law: Law, from payload: UnsafeRawBufferPointer, into samples: UnsafeMutablePointer<Int16>) {
        let table = law == .aLaw ? aLawToLinear : uLawToLinear
        table.withUnsafeBufferPointer { lookup in
            for index in 0..<payload.count {
                samples[index] = lookup[Int(payload[index])]
            }
        }
    }

    /// Encodes `count` samples into `payload`, which must hold `count` bytes.
    public static func encode(_ law: Law, from samples: UnsafePointer<Int16>, count: Int, into payload: UnsafeMutableRawPointer) {
        let bytes = payload.assumingMemoryBound(to: UInt8.self)
        switch law {
        case .aLaw:
            for index in 0..<count { bytes[index] = encodeALaw(samples[index]) }
        case .uLaw:
            for index in 0..<count { bytes[index] = encodeULaw(samples[index]) }
        }
    }

    // MARK: Table construction

    private static func topBit(_ value: Int) -> Int {
        Int.bitWidth - 1 - value.leadingZeroBitCount
    }

    private static func decodeALawArithmetic(_ code: UInt8) -> Int16 {
        let inverted = Int(code) ^ aLawInversionMask
        var magnitude = (inverted & 0x0F) << 4
        let segment = (inverted & 0x70) >> 4
        if segment == 0 {
            magnitude += 8
        } else {
            magnitude = (magnitude + 0x108) << (segment - 1)
        }
        return Int16(inverted & 0x80 != 0 ? magnitude : -magnitude)
    }

    private static func decodeULawArithmetic(_ code: UInt8) -> Int16 {
        let complemented = Int(~code)
        let biased = (((complemented & 0x0F) << 3) + uLawBias) << ((complemented & 0x70) >> 4)
        return Int16(complemented & 0x80 != 0 ? uLawBias - biased : biased - uLawBias)
    }
}
