import ArgumentParser
import Foundation
import VOSModel
import VOSStore

/// `vosctl version`: what is installed, so a NOC ticket can say exactly which vos it is about.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the vos release, the store schema it reads and the installed package.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("json"), help: "Print JSON.")
    var json = false

    struct Report: Encodable {
        var release: String
        var storeSchema: Int
        /// The Debian package's version (release build of a commit), when vos is installed as one.
        var package: String?
    }

    func run() throws {
        let report = Report(release: VOSVersion.number, storeSchema: Store.schemaVersion, package: Self.installedPackageVersion())
        if json { return try printJSON(report) }
        print("vos \(report.release)")
        print("store schema \(report.storeSchema)")
        print("package \(report.package ?? "not installed (built from source)")")
    }

    /// dpkg's record of the `vos` package, read from its status file (no dpkg process needed).
    static func installedPackageVersion(statusFile: String = "/var/lib/dpkg/status") -> String? {
        guard let text = try? String(contentsOfFile: statusFile, encoding: .utf8) else { return nil }
        for stanza in text.components(separatedBy: "\n\n") {
            let lines = stanza.split(separator: "\n")
            guard lines.contains("Package: vos"), lines.contains(where: { $0.hasPrefix("Status: install ok installed") }) else { continue }
            return lines.first { $0.hasPrefix("Version: ") }.map { String($0.dropFirst("Version: ".count)) }
        }
        return nil
    }
}
