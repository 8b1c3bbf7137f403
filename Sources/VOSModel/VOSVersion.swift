/// The release every vos binary reports (`--version`, `vosctl version`). Raised by hand when a
/// release's behaviour changes; the Debian package adds the commit it was built from.
public enum VOSVersion {
    public static let number = "0.16.0"
}
