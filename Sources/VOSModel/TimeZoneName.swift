#if canImport(Glibc)
import Glibc
#endif

/// An IANA time zone name as `SS_TIME_ZONE` holds it. The model only checks that the name is one
/// the host has (tzdata's file exists); converting times is done where Foundation is (`LocalClock`).
public enum TimeZoneName {
    public static let zoneInfoDirectory = "/usr/share/zoneinfo"

    /// Letters, digits, `_+-` and `/` between parts, no `..`: a path under the zoneinfo directory
    /// and nothing else.
    public static func isWellFormed(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 64, !name.hasPrefix("/"), !name.hasSuffix("/") else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && part != "." && part != ".."
                && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_+-".contains($0)) }
        }
    }

    public static func isInstalled(_ name: String) -> Bool {
        isWellFormed(name) && access(zoneInfoDirectory + "/" + name, R_OK) == 0
    }
}
