import CVOSSys
#if canImport(Glibc)
import Glibc
#endif

/// The controller's helper threads (`vos-ledger`, `media-create`, `media-release`) run at nice +5
/// under the `vos-sip` loop. Their work is queued and batched, so when the cores are short they
/// should be the ones to wait: the loop keeps up with its sockets, and the helpers find bigger
/// batches, which cost less per call. Measured A/B, alternating builds (docs/BENCHMARKS-sip.md):
/// media mode 3 held 2750 and 3000 calls/s with it, 2250 and 2500 without; mode 0 the same either
/// way. Lowering a thread's priority needs no privilege.
enum BackgroundThreadPriority {
    static let niceness: Int32 = 5

    /// Applies to the calling thread only (Linux schedules threads; setpriority takes a tid).
    static func lowerCurrentThread() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(vos_gettid()), niceness)
    }
}
