/// What the controller knows about each routing gateway's health and load: OPTIONS results
/// (requirements §2: three missed probes mark it offline, one answer online again) and the
/// calls per second it was sent.
final class GatewayHealth {
    struct State {
        var online = true
        var missedProbes = 0
        var probeOutstanding = false
        var lastAnswer: Int64?
        var callsThisSecond = 0
        var second: UInt64 = 0
        var callsLastSecond = 0
    }

    static let missesBeforeOffline = 3
    private(set) var states: [String: State] = [:]

    func isOnline(_ gateway: String) -> Bool { states[gateway]?.online ?? true }

    func state(_ gateway: String) -> State { states[gateway] ?? State() }

    /// Returns true when the gateway just changed to online.
    @discardableResult
    func probeAnswered(_ gateway: String, at wallMilliseconds: Int64) -> Bool {
        var state = states[gateway] ?? State()
        let changed = !state.online
        state.online = true
        state.missedProbes = 0
        state.probeOutstanding = false
        state.lastAnswer = wallMilliseconds
        states[gateway] = state
        return changed
    }

    /// A probe went out; if the previous one is still unanswered it counts as missed.
    /// Returns true when the gateway just changed to offline.
    @discardableResult
    func probeSent(_ gateway: String) -> Bool {
        var state = states[gateway] ?? State()
        var changed = false
        if state.probeOutstanding {
            state.missedProbes += 1
            if state.missedProbes >= GatewayHealth.missesBeforeOffline && state.online {
                state.online = false
                changed = true
            }
        }
        state.probeOutstanding = true
        states[gateway] = state
        return changed
    }

    func countCall(_ gateway: String, now: UInt64) {
        var state = states[gateway] ?? State()
        let second = now / 1_000_000_000
        if second != state.second {
            state.callsLastSecond = second == state.second + 1 ? state.callsThisSecond : 0
            state.callsThisSecond = 0
            state.second = second
        }
        state.callsThisSecond += 1
        states[gateway] = state
    }

    func callsPerSecond(_ gateway: String, now: UInt64) -> Int {
        guard let state = states[gateway] else { return 0 }
        let second = now / 1_000_000_000
        if second == state.second { return max(state.callsLastSecond, state.callsThisSecond) }
        return second == state.second + 1 ? state.callsThisSecond : 0
    }

    func forget(except names: Set<String>) {
        states = states.filter { names.contains($0.key) }
    }
}
