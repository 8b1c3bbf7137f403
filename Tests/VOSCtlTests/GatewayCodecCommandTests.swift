import Foundation
import Testing
import VOSModel
import VOSStore
import VOSTestSupport

/// Issue 13 through the vosctl binary: each gateway's codec and DTMF settings (requirements §6)
/// are set on both kinds, shown as the operator typed them (table and `--json`), put back to their
/// defaults with '', and bad values are refused by name with nothing written.
@Suite struct GatewayCodecCommandTests {
    func initialised() throws -> (Scratch, Vosctl) {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        try vosctl.ok("gateway", "add", "mapping", "cust", "--ip", "203.0.113.5")
        try vosctl.ok("gateway", "add", "routing", "bd", "--address", "198.51.100.7", "--prefix", "880")
        return (scratch, vosctl)
    }

    func stored(_ vosctl: Vosctl, _ name: String) throws -> (codecs: [String: Any], dtmf: [String: Any]) {
        let gateway = try #require((try vosctl.json("gateway", "show", name) as? [String: Any])?["gateway"] as? [String: Any])
        return (try #require(gateway["codecs"] as? [String: Any]), try #require(gateway["dtmf"] as? [String: Any]))
    }

    /// The rows of a `FIELD  VALUE` table, by field.
    func rows(_ table: String) -> [String: String] {
        var rows: [String: String] = [:]
        for line in table.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            rows[String(line[..<space])] = line[space...].trimmingCharacters(in: .whitespaces)
        }
        return rows
    }

    static let everyOption = ["--codecs", "g729, PCMA", "--codec-mode", "convert", "--g729-annexb", "on", "--g729-mode", "g729a",
                              "--dtmf-receive", "rfc2833", "--dtmf-send", "info", "--rfc2833-payload-type", "105",
                              "--rfc2833-events", "0-15", "--use-peer-rfc2833", "off", "--inband-dtmf", "on", "--must-inband-send", "on"]

    static let everyRow = ["codecs": "G729,PCMA", "codec-mode": "convert", "g729-annexb": "on", "g729-mode": "g729a",
                           "dtmf-receive": "rfc2833", "dtmf-send": "info", "rfc2833-payload-type": "105", "rfc2833-events": "0-15",
                           "use-peer-rfc2833": "off", "inband-dtmf": "on", "must-inband-send": "on"]

    static let defaultRows = ["codecs": "PCMA,PCMU,G729", "codec-mode": "auto", "g729-annexb": "off", "g729-mode": "auto",
                              "dtmf-receive": "all", "dtmf-send": "auto", "rfc2833-payload-type": "101", "rfc2833-events": "0-16",
                              "use-peer-rfc2833": "on", "inband-dtmf": "off", "must-inband-send": "off"]

    @Test(arguments: ["cust", "bd"])
    func everyCodecAndDTMFOptionIsSetShownAndReset(gateway name: String) throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        let table = rows(try vosctl.ok("gateway", "show", name))
        for (field, value) in Self.defaultRows { #expect(table[field] == value, "default \(field): \(table[field] ?? "missing")") }

        try vosctl.okArray(["gateway", "set", name] + Self.everyOption)
        let (codecs, dtmf) = try stored(vosctl, name)
        #expect(codecs["codecs"] as? [String] == ["G729", "PCMA"])
        #expect(codecs["mode"] as? String == "convert", "JSON says what the operator typed")
        #expect(codecs["annexB"] as? Bool == true && codecs["g729Mode"] as? String == "g729a")
        #expect(dtmf["receive"] as? String == "rfc2833" && dtmf["send"] as? String == "info")
        #expect(dtmf["rfc2833PayloadType"] as? Int == 105 && dtmf["rfc2833Events"] as? String == "0-15")
        #expect(dtmf["usePeerRFC2833Capability"] as? Bool == false)
        #expect(dtmf["mediaContainsInband"] as? Bool == true && dtmf["mustUseInbandSend"] as? Bool == true)
        let shown = rows(try vosctl.ok("gateway", "show", name))
        for (field, value) in Self.everyRow { #expect(shown[field] == value, "\(field): \(shown[field] ?? "missing")") }

        let resets = Self.everyOption.enumerated().map { $0.offset % 2 == 0 ? $0.element : "" }
        try vosctl.okArray(["gateway", "set", name] + resets)
        let reset = rows(try vosctl.ok("gateway", "show", name))
        for (field, value) in Self.defaultRows { #expect(reset[field] == value, "reset \(field): \(reset[field] ?? "missing")") }
    }

    @Test func addTakesTheOptionsAndTheOldModeNameIsAccepted() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("gateway", "add", "routing", "uk", "--address", "198.51.100.8", "--prefix", "44",
                      "--codecs", "G729", "--codec-mode", "specified", "--dtmf-send", "rfc2833", "--rfc2833-payload-type", "96")
        try vosctl.ok("gateway", "add", "mapping", "cust2", "--ip", "203.0.113.6", "--codec-mode", "allow-conversion")
        let uk = rows(try vosctl.ok("gateway", "show", "uk"))
        #expect(uk["codecs"] == "G729" && uk["codec-mode"] == "specified" && uk["dtmf-send"] == "rfc2833")
        #expect(uk["rfc2833-payload-type"] == "96")
        #expect(try stored(vosctl, "cust2").codecs["mode"] as? String == "convert")
    }

    @Test func badValuesAreRefusedByNameAndChangeNothing() throws {
        let (scratch, vosctl) = try initialised()
        defer { withExtendedLifetime(scratch) {} }
        try vosctl.ok("gateway", "set", "bd", "--codecs", "PCMU,PCMA", "--rfc2833-payload-type", "110")
        let before = try vosctl.ok("gateway", "show", "bd", "--json")
        let generation = try Store(directory: vosctl.dataDirectory).generation()

        let cases: [([String], String)] = [
            (["--codecs", "G723"], "invalid --codecs 'G723': expected PCMA, PCMU or G729 (G.723 is not supported: no free codec library)"),
            (["--codecs", "PCMA,G.723"], "G.723 is not supported"),
            (["--codecs", "PCMA,iLBC"], "invalid --codecs 'iLBC': expected PCMA, PCMU or G729"),
            (["--codecs", "PCMA,PCMU,pcma"], "--codecs lists PCMA twice"),
            (["--codecs", ","], "--codecs is required"),
            (["--rfc2833-payload-type", "95"], "--rfc2833-payload-type 95 is out of range: allowed 96-127"),
            (["--rfc2833-payload-type", "128"], "--rfc2833-payload-type 128 is out of range"),
            (["--rfc2833-events", "0-300"], "invalid --rfc2833-events '0-300': expected LOW-HIGH within 0-255"),
            (["--rfc2833-events", "16-0"], "invalid --rfc2833-events '16-0'"),
            (["--cps", "3", "--codec-mode", "transcode"], "--codec-mode"),
            (["--dtmf-send", "sms"], "--dtmf-send"),
            (["--dtmf-receive", "auto"], "--dtmf-receive"),
            (["--g729-mode", "g729b"], "--g729-mode"),
            (["--g729-annexb", "maybe"], "--g729-annexb"),
            (["--use-peer-rfc2833", "2"], "--use-peer-rfc2833"),
            (["--rfc2833-payload-type", "x"], "--rfc2833-payload-type"),
        ]
        for (options, message) in cases {
            let error = try vosctl.run(["gateway", "set", "bd"] + options)
            #expect(error.status != 0, "\(options) was accepted")
            #expect(error.stderr.contains(message), "\(options): \(error.stderr)")
        }
        #expect(try vosctl.ok("gateway", "show", "bd", "--json") == before, "the refused changes left the gateway as it was")
        #expect(try Store(directory: vosctl.dataDirectory).generation() == generation, "nothing was written")
        #expect(try vosctl.fails("gateway", "add", "routing", "bd2", "--address", "198.51.100.9", "--prefix", "1", "--codecs", "G723")
            .contains("G.723 is not supported"))
        #expect(try vosctl.fails("gateway", "show", "bd2").contains("does not exist"))
    }
}
