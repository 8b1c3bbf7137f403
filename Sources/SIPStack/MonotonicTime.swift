#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds since an arbitrary start, never going backwards (CLOCK_MONOTONIC).
public enum MonotonicTime {
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// Wall-clock milliseconds since the Unix epoch, for CDR timestamps.
    public static func wallMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
