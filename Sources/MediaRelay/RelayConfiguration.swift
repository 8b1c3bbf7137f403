import MediaDSP

/// What the relay needs from the system parameters, resolved by the daemon. Changes apply to
/// sessions created afterwards; running sessions keep the ports, DSCP and timeout they started with.
public struct RelayConfiguration: Sendable, Equatable {
    /// `SS_MEDIAPROXYPORT_START`...`END`: RTP on even ports, RTCP on the odd port above.
    public var portRange: ClosedRange<Int>
    /// `SS_QOS_RTP`: DSCP 0-63 written into the TOS / traffic class byte of every media packet.
    public var dscp: Int
    /// `SS_RTP_TIMEOUT`: seconds without RTP either way before a `rtpTimeout` event; 0 disables.
    public var rtpTimeoutSeconds: Int
    /// Local IP a leg binds to when its request names none.
    public var defaultLocalIP: String
    /// `SS_MEDIA_KERNEL_OFFLOAD`: hand latched plain relay legs to the kernel when an offload is available.
    public var kernelOffload: Bool
    /// What decoded (transcoded) legs apply: `SS_VOICEGAIN`, and the jitter buffer, echo
    /// canceller and comfort noise parameters (requirements §5).
    public var decodedLeg: DecodedLegOptions

    public init(portRange: ClosedRange<Int>, dscp: Int, rtpTimeoutSeconds: Int, defaultLocalIP: String = "0.0.0.0", kernelOffload: Bool = false,
                decodedLeg: DecodedLegOptions = DecodedLegOptions()) {
        self.portRange = portRange
        self.dscp = dscp
        self.rtpTimeoutSeconds = rtpTimeoutSeconds
        self.defaultLocalIP = defaultLocalIP
        self.kernelOffload = kernelOffload
        self.decodedLeg = decodedLeg
    }

    /// The TOS byte for `dscp`: the DSCP sits in the upper six bits (EF 46 -> 0xB8).
    public var tosByte: Int32 { Int32((dscp & 0x3F) << 2) }
}
