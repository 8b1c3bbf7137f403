import Foundation
import Testing
import VOSTestSupport

/// A registered phone behind a NAT, in the two-network lab run as installed (`tools/lab/lab.sh
/// up --nat`): baresip at 203.0.113.10 registers through the NAT (192.0.2.30) as user 3001; the
/// NAT forgets an idle UDP mapping after 20 s (its conntrack timeouts are lowered for the
/// test). A caller on the vendor network dials 3001 45 s later. With vos's keep-alives every
/// 10 s the mapping holds and the phone answers; with the keep-alive message empty (off) the
/// INVITE dies at the NAT, which is what proves the keep-alives did the work. (A first try with
/// a 10 s NAT and a 10 s period failed: the mapping died just before the first keep-alive, as
/// on real NATs, which is why the period must be well under the NAT's timeout.)
/// Part of `ApplianceLabTests` (serialized): one lab at a time; two at once starved the
/// namespace tests of other suites past their time limits.
extension ApplianceLabTests {
    @Test func keepAlivesHoldTheNATOpenSoTheRegisteredPhoneCanBeCalled() throws {
        let result = try Self.callPhoneAfterIdle(keepAlive: "HELLO")
        #expect(result.sippStatus == 0, "the call to the phone completed\n\(result.diagnostics)")
        #expect(result.endReason == "CallerHangup", "\(result.diagnostics)")
    }

    @Test func withoutKeepAlivesTheNATForgetsThePhone() throws {
        let result = try Self.callPhoneAfterIdle(keepAlive: "")
        #expect(result.sippStatus != 0, "the INVITE could not reach the phone\n\(result.diagnostics)")
        #expect(result.endReason != "CallerHangup", "\(result.diagnostics)")
    }

    struct Outcome {
        var sippStatus: Int32
        var endReason: String?
        var diagnostics: String
    }

    static func callPhoneAfterIdle(keepAlive: String) throws -> Outcome {
        let lab = try ApplianceLab(nat: true)
        defer { lab.down() }
        try lab.provision()
        let secret = try lab.scratch.write("phone.pass", "s3cret\n")
        let rates = try lab.scratch.write("phones.csv", "prefix,price,first,next\n3,0.0100,1,1\n")
        try lab.vosctl.ok("rate", "import", "phone-rates", rates)
        try lab.vosctl.ok("account", "add", "phones", "--type", "postpaid", "--limit-money", "1000", "--rate-table", "phone-rates")
        try lab.vosctl.ok("gateway", "add", "mapping", "phones", "--auth", "password", "--username", "3001", "--password-file", secret,
                          "--account", "phones")
        // The caller: a customer on the vendor network.
        try lab.vosctl.ok("gateway", "add", "mapping", "far-caller", "--ip", "198.51.100.20", "--port", "5070", "--auth", "ip-port",
                          "--account", "phones")
        try lab.vosctl.ok("param", "set", "SS_SIP_NAT_KEEP_ALIVE_MESSAGE", keepAlive)
        try lab.vosctl.ok("param", "set", "SS_SIP_NAT_KEEP_ALIVE_PERIOD", "10")
        for (key, value) in [("nf_conntrack_udp_timeout", "20"), ("nf_conntrack_udp_timeout_stream", "20")] {
            let set = try lab.lab(["exec", "nat", "sysctl", "-w", "net.netfilter.\(key)=\(value)"])
            guard set.status == 0 else { throw Failure("cannot set \(key) in the NAT: \(set.output)") }
        }
        try lab.startVos()

        let phone = try Baresip(ip: "203.0.113.10", registrar: "192.0.2.1:5060", username: "3001", password: "s3cret",
                                directory: lab.scratch.child("phone"), namespace: lab.prefix + "-cust", account: ";regint=600")
        defer { phone.stop() }
        let registered = eventually(seconds: 15) {
            let bindings = ((try? lab.vosctl.json("registrations")) as? [[String: Any]]) ?? []
            return bindings.contains { $0["username"] as? String == "3001" && $0["behindNAT"] as? Bool == true
                && ($0["received"] as? String)?.hasPrefix("192.0.2.30:") == true }
        }
        guard registered else {
            throw Failure("the phone did not register through the NAT:\n\(phone.log)\n\(lab.daemonLogs())")
        }
        // Idle for more than twice the NAT's timeout: only keep-alives cross it meanwhile.
        usleep(45_000_000)

        let stat = lab.scratch.child("caller-stat.csv")
        let caller = try lab.lab(["exec", "vend", "/usr/bin/sipp", "-sn", "uac", "198.51.100.1:5060", "-s", "3001", "-m", "1",
                                  "-i", "198.51.100.20", "-p", "5070", "-mp", "16100", "-timeout", "20s", "-timeout_error",
                                  "-nostdin", "-trace_stat", "-stf", stat], seconds: 40)
        _ = eventually(seconds: 10) { (((try? lab.vosctl.json("cdr", "list")) as? [[String: Any]]) ?? []).isEmpty == false }
        let record = (((try? lab.vosctl.json("cdr", "list")) as? [[String: Any]]) ?? []).first
        let diagnostics = "sipp:\n\(caller.output.suffix(3000))\nCDR: \(record ?? [:])\nphone:\n\(phone.log.suffix(2000))\n\(lab.daemonLogs())"
        return Outcome(sippStatus: caller.status, endReason: record?["endReason"] as? String, diagnostics: diagnostics)
    }
}
