import Foundation
import MediaControl
import VOSModel

/// How `vosctl calls`, `vosctl media sessions` and `vosctl cdr` print the media quality of a leg:
/// the far end's RTCP report (loss, jitter), the relay's round trip to it, the requirements §5
/// band and one-way audio. "-" where nothing was measured.
enum MediaQualityText {
    static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0) } ?? "-" }
    static func milliseconds(_ value: Double?) -> String { value.map { String(format: "%.1fms", $0) } ?? "-" }
    static func band(_ value: QualityBand?) -> String { value?.rawValue ?? "-" }

    /// "A", "B", "A,B" (the legs whose far end sends no RTP while the other's does) or "-".
    static func oneWayLegs(_ flags: [Bool?]) -> String {
        let legs = flags.enumerated().compactMap { index, flag in flag == true ? (index == 0 ? "A" : "B") : nil }
        return legs.isEmpty ? "-" : legs.joined(separator: ",")
    }

    /// One leg of `media sessions`: "yes" (now), "earlier" (seen during the session, not now) or "no".
    static func oneWay(_ leg: LegInfo) -> String {
        if leg.oneWayAudio == true { return "yes" }
        return leg.oneWayAudioSeen == true ? "earlier" : "no"
    }

    /// Per-leg values joined as in `calls` ("A/B"), "-" when there are no legs.
    static func perLeg<Leg>(_ legs: [Leg], _ text: (Leg) -> String) -> String {
        legs.isEmpty ? "-" : legs.map(text).joined(separator: "/")
    }
}
