#if canImport(Glibc)
import Glibc
#endif

/// VOSRuntime owns what every vos program does the same way at start: finding the data directory,
/// logging, waiting for a stop signal and watching the store for configuration changes.
/// It must not hold business logic.
public enum DataDirectory {
    public static let environmentVariable = "VOS_DATA_DIR"
    /// Development default, relative to the working directory; the appliance passes /var/lib/vos.
    public static let developmentDefault = "./var"

    /// `--data-dir` wins, then `$VOS_DATA_DIR`, then `./var`.
    public static func resolve(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let value = getenv(environmentVariable), value.pointee != 0 { return String(cString: value) }
        return developmentDefault
    }
}
