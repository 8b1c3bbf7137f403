/// The relay's configured port range (`SS_MEDIAPROXYPORT_*`, validated as ints) as the UDP port
/// range the kernel tables match: clamped to 0...65535 and never inverted.
func udpPortRange(_ range: ClosedRange<Int>) -> ClosedRange<UInt16> {
    let low = UInt16(clamping: range.lowerBound), high = UInt16(clamping: range.upperBound)
    return low...max(low, high)
}
