import Foundation
import Testing
import VOSTestSupport

/// The appliance as installed, carrying real calls: `tools/lab/lab.sh` builds a site in network
/// namespaces (customer 192.0.2.10 ── 192.0.2.1 vos 198.51.100.1 ── 198.51.100.20 vendor, or the
/// customer behind a NAT), starts vos-mediad and vos-controller with the `ExecStart` lines of
/// `appliance/systemd/`, and places a 15 s call with RTP both ways, captured at both ends
/// (docs/LAB.md). These tests assert what the customer, the vendor and the operator see.
@Suite(.serialized) struct ApplianceLabTests {
    static let callSeconds = 15

    @Test func callWithKernelOffloadCarriesAudioBothWaysForTheWholeCall() throws {
        try Self.callThroughTheAppliance(nat: false, offload: true, hangup: "customer")
    }

    @Test func callWithoutOffloadCarriesAudioBothWaysAndTheVendorsByeReachesTheCustomer() throws {
        try Self.callThroughTheAppliance(nat: false, offload: false, hangup: "vendor")
    }

    @Test func customerBehindNATGetsTwoWayAudio() throws {
        try Self.callThroughTheAppliance(nat: true, offload: true, hangup: "customer")
    }

    /// `lab.sh down` removes a lab whose processes are still running (a crashed run) and can run again.
    @Test func labDownRemovesEverythingAndIsIdempotent() throws {
        let lab = try ApplianceLab(nat: true)
        defer { lab.down() }
        let leftover = try lab.background(["exec", "app", "sleep", "120"], log: "leftover.log")
        #expect(eventually(seconds: 5) { lab.namespaces().count == 4 }, "up --nat: four namespaces: \(lab.namespaces())")
        #expect(try lab.lab(["down"]).status == 0)
        #expect(eventually(seconds: 5) { !leftover.isRunning }, "down stopped the process left in the appliance namespace")
        #expect(lab.namespaces().isEmpty, "no namespace of the lab is left: \(lab.namespaces())")
        #expect(try lab.lab(["down"]).status == 0, "down again: nothing to do, success")
    }

    // MARK: - One call through the appliance

    static func callThroughTheAppliance(nat: Bool, offload: Bool, hangup: String) throws {
        let lab = try ApplianceLab(nat: nat)
        defer { lab.down() }
        try lab.provision()
        if !offload { try lab.vosctl.ok("param", "set", "SS_MEDIA_KERNEL_OFFLOAD", "0") }
        try lab.startVos()

        // vos-mediad's ExecStartPre (`vosctl media forwarding`) owns forwarding in the appliance.
        let forwarding = try lab.lab(["exec", "app", "sysctl", "-n", "net.ipv4.ip_forward"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(forwarding == (offload ? "1" : "0"), "net.ipv4.ip_forward in the appliance with offload \(offload ? "on" : "off")")

        let call = try lab.startCall(seconds: callSeconds, hangup: hangup)
        // What the operator sees while the call is up (offload happens once both legs latched).
        let live = lab.watchLiveCall(call, offload: offload)
        let status = call.boundedWait(seconds: Double(callSeconds + 45))
        let output = lab.read("call.log")
        let summary = try lab.summary()
        let diagnostics = "\n--- lab.sh call ---\n\(output)\n--- logs ---\n\(lab.daemonLogs())"

        #expect(status == 0, "lab.sh call exited \(status)\(diagnostics)")
        try expectCallChecks(summary, hangup: hangup)
        try expectAddresses(summary, hangup: hangup)
        expectAudio(summary)
        try expectCDR(lab, hangup: hangup)
        try expectLiveView(live, offload: offload, nat: nat)
    }

    /// Every check lab.sh's analysis made (the same ones the boot test relies on) held.
    static func expectCallChecks(_ summary: [String: Any], hangup: String) throws {
        let checks = try #require(summary["checks"] as? [String: [String: Any]], "summary.json has checks")
        var required = ["customer_call_completed", "vendor_call_completed", "customer_sees_vos_at_192.0.2.1",
                        "vendor_sees_vos_at_198.51.100.1", "customer_requests_reach_vos", "customer_ack_reached_vos",
                        "audio_to_customer", "audio_to_vendor"]
        if hangup == "vendor" { required.append("vendor_requests_reach_vos") }
        for name in required {
            let check = checks[name]
            #expect(check?["ok"] as? Bool == true, "\(name): \(check?["detail"] as? String ?? "missing from the analysis")")
        }
        for (name, check) in checks where !required.contains(name) {
            #expect(check["ok"] as? Bool == true, "\(name): \(check["detail"] as? String ?? "")")
        }
    }

    /// Via, Contact and SDP c= of what vos sent: the customer sees 192.0.2.1, the vendor 198.51.100.1;
    /// the customer's ACK and BYE and the vendor's BYE went to those addresses.
    static func expectAddresses(_ summary: [String: Any], hangup: String) throws {
        let customer = try #require(summary["customer"] as? [String: Any])
        let vendor = try #require(summary["vendor"] as? [String: Any])
        let atCustomer = (customer["sip"] as? [[String: Any]]) ?? []
        let atVendor = (vendor["sip"] as? [[String: Any]]) ?? []

        let answer = atCustomer.first { $0["direction"] as? String == "in" && $0["status"] as? Int == 200 && $0["cseq_method"] as? String == "INVITE" }
        #expect(answer != nil, "the customer received a 200 OK for its INVITE: \(starts(atCustomer))")
        #expect(answer?["contact"] as? String == "192.0.2.1", "Contact of the 200 OK the customer got: \(answer?["contact_raw"] ?? "none")")
        #expect(answer?["sdp_c"] as? String == "192.0.2.1", "SDP c= of the 200 OK the customer got: \(answer?["sdp_c"] ?? "none")")
        for request in hangup == "customer" ? ["ACK", "BYE"] : ["ACK"] {
            let sent = atCustomer.filter { $0["direction"] as? String == "out" && $0["method"] as? String == request }
            #expect(!sent.isEmpty, "the customer sent \(request): \(starts(atCustomer))")
            for message in sent {
                #expect((message["dst"] as? String)?.hasPrefix("192.0.2.1:") == true,
                        "the customer's \(request) went to \(message["dst"] ?? "?") (the Contact vos gave), not to vos at 192.0.2.1")
            }
        }

        let invite = atVendor.first { $0["direction"] as? String == "in" && $0["method"] as? String == "INVITE" }
        #expect(invite != nil, "the vendor received an INVITE: \(starts(atVendor))")
        #expect((invite?["via"] as? [String])?.first == "198.51.100.1", "top Via of the INVITE the vendor got: \(invite?["via"] ?? "none")")
        #expect(invite?["contact"] as? String == "198.51.100.1", "Contact of the INVITE the vendor got: \(invite?["contact_raw"] ?? "none")")
        #expect(invite?["sdp_c"] as? String == "198.51.100.1", "SDP c= of the INVITE the vendor got: \(invite?["sdp_c"] ?? "none")")
        for request in ["ACK", "BYE"] {
            let received = atVendor.filter { $0["direction"] as? String == "in" && $0["method"] as? String == request }
            if hangup == "customer" || request == "ACK" {
                #expect(received.count >= 1, "vos passed the customer's \(request) on to the vendor: \(starts(atVendor))")
            }
            for message in received {
                #expect((message["via"] as? [String])?.first == "198.51.100.1", "top Via of the \(request) the vendor got: \(message["via"] ?? "none")")
            }
        }
        if hangup == "vendor" {
            let bye = atVendor.first { $0["direction"] as? String == "out" && $0["method"] as? String == "BYE" }
            #expect((bye?["dst"] as? String)?.hasPrefix("198.51.100.1:") == true,
                    "the vendor's BYE went to \(bye?["dst"] ?? "nowhere") (the Contact vos gave it)")
            let relayed = atCustomer.first { $0["direction"] as? String == "in" && $0["method"] as? String == "BYE" }
            #expect(relayed != nil, "vos passed the vendor's BYE on to the customer: \(starts(atCustomer))")
            #expect((relayed?["via"] as? [String])?.first == "192.0.2.1", "top Via of the BYE the customer got: \(relayed?["via"] ?? "none")")
            #expect(relayed?["src"] as? String == "192.0.2.1:5060", "the BYE came from vos's customer side: \(relayed?["src"] ?? "none")")
        }
    }

    /// RTP at both ends from the answer to the BYE: no gap over 1 s, about 33 packets every second.
    static func expectAudio(_ summary: [String: Any]) {
        for role in ["customer", "vendor"] {
            let end = summary[role] as? [String: Any]
            let received = end?["rtp_received"] as? [String: Any]
            let packets = received?["packets"] as? Int ?? 0
            let perSecond = (received?["per_second"] as? [Int]) ?? []
            let gap = received?["max_gap"] as? Double
            let startup = received?["startup"] as? Double
            let context = "RTP at the \(role): per second \(perSecond), first \(startup.map { "\($0) s" } ?? "never") after the answer"
            #expect(packets >= 25 * (callSeconds - 2), "\(role) received \(packets) RTP packets in a \(callSeconds) s call; \(context)")
            #expect((startup ?? .infinity) <= 2.0, "\(context)")
            #expect((gap ?? .infinity) <= 1.0, "longest silence at the \(role): \(gap.map { "\($0) s" } ?? "no audio") at t=\(received?["max_gap_at"] ?? "-"); \(context)")
            // Every whole second of the call carried audio (the last bucket ends at the BYE).
            if perSecond.count >= 2 {
                let silent = perSecond.dropLast().enumerated().filter { $0.element < 10 }.map(\.offset)
                #expect(silent.isEmpty, "seconds of the call with under 10 packets at the \(role): \(silent); \(context)")
            }
        }
    }

    static func expectCDR(_ lab: ApplianceLab, hangup: String) throws {
        let written = eventually(seconds: 10) { ((try? lab.vosctl.json("cdr", "list")) as? [[String: Any]])?.isEmpty == false }
        #expect(written, "a CDR row within 10 s of the BYE")
        let records = (try lab.vosctl.json("cdr", "list") as? [[String: Any]]) ?? []
        #expect(records.count == 1, "one call, one CDR: \(records)")
        let record = try #require(records.first)
        #expect(record["endReason"] as? String == (hangup == "customer" ? "CallerHangup" : "CalleeHangup"))
        #expect(record["sipCode"] as? Int == 200)
        #expect(record["mappingGateway"] as? String == "lab-customer-gw")
        #expect(record["routingGateway"] as? String == "lab-vendor")
        let duration = record["durationSeconds"] as? Int ?? -1
        #expect((callSeconds - 1...callSeconds + 3).contains(duration), "CDR duration \(duration) s for a \(callSeconds) s call")
        #expect(record["callerCodec"] as? String == "PCMA")
    }

    static func expectLiveView(_ live: LiveView, offload: Bool, nat: Bool) throws {
        let call = try #require(live.call, "vosctl calls --json showed the call while it was up: \(live.problems)")
        #expect(call["state"] as? String == "connected")
        #expect(call["mappingGateway"] as? String == "lab-customer-gw")
        #expect(call["routingGateway"] as? String == "lab-vendor")
        let legs = ((call["media"] as? [String: Any])?["legs"] as? [[String: Any]]) ?? []
        #expect(legs.count == 2, "vosctl calls shows both media legs: \(call["media"] ?? "no media")")
        let expected = offload ? "kernel" : "userspace"
        #expect(legs.map { $0["path"] as? String ?? "?" } == [expected, expected],
                "media path of both legs in vosctl calls with offload \(offload ? "on" : "off"), \(live.seconds) s into the call: \(legs)")
        let latched = legs.compactMap { $0["latched"] as? String }
        let customerSource = nat ? "192.0.2.30:" : "192.0.2.10:"
        #expect(latched.first?.hasPrefix(customerSource) == true && latched.last?.hasPrefix("198.51.100.20:") == true,
                "legs latched to the customer's source and the vendor: \(latched)")
        let session = try #require(live.session, "vosctl media sessions --json showed the session: \(live.problems)")
        let sessionLegs = (session["legs"] as? [[String: Any]]) ?? []
        #expect(sessionLegs.map { $0["path"] as? String ?? "?" } == [expected, expected], "vosctl media sessions: \(sessionLegs)")
    }

    static func starts(_ messages: [[String: Any]]) -> String {
        messages.map { "\($0["direction"] ?? "") \($0["start"] ?? "")" }.joined(separator: " | ")
    }
}

/// What `vosctl calls --json` and `vosctl media sessions --json` showed during a call.
struct LiveView {
    var call: [String: Any]?
    var session: [String: Any]?
    var seconds = 0.0
    var problems: [String] = []
}

/// One lab (`tools/lab/lab.sh`) with its own namespace prefix and state in a scratch directory,
/// always taken down by `down()` (call it in a `defer`).
final class ApplianceLab: @unchecked Sendable {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/lab/lab.sh").path

    let scratch: Scratch
    let prefix: String
    let vosctl: Vosctl
    var dataDirectory: String { scratch.child("var") }
    var stateDirectory: String { scratch.child("lab") }
    var callDirectory: String { scratch.child("call") }
    private var processes: [Process] = []

    /// Lab prefixes carry the test process's pid: `vlt<pid>x<random>`.
    static let prefixStart = "vlt"

    init(nat: Bool) throws {
        Self.removeAbandonedLabs()
        scratch = try Scratch()
        prefix = "\(Self.prefixStart)\(getpid())x" + String(UInt32.random(in: 0...UInt32.max) % 46_656, radix: 36)
        vosctl = Vosctl(dataDirectory: scratch.child("var"))
        let up = try lab(["up"] + (nat ? ["--nat"] : []), seconds: 60)
        guard up.status == 0 else {
            down()
            throw Failure("lab.sh up exited \(up.status):\n\(up.output)")
        }
    }

    var environment: [String: String] { ["LAB_PREFIX": prefix, "LAB_STATE_DIR": stateDirectory] }

    /// Runs `lab.sh ARGUMENTS`, bounded (SIGTERM after `seconds` so its traps clean up, SIGKILL 5 s later).
    @discardableResult
    func lab(_ arguments: [String], seconds: Int = 60) throws -> (status: Int32, output: String) {
        let log = scratch.child("lab-\(UUID().uuidString).log")
        let process = try spawn(["/usr/bin/timeout", "-k", "5", String(seconds), "bash", Self.script] + arguments, log: log)
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    func provision() throws {
        let result = try lab(["provision", Vosctl.path, "--data-dir", dataDirectory])
        guard result.status == 0 else { throw Failure("lab.sh provision exited \(result.status):\n\(result.output)") }
    }

    func startVos() throws {
        let result = try lab(["start-vos", Vosctl.binaryDirectory, dataDirectory])
        guard result.status == 0 else { throw Failure("lab.sh start-vos exited \(result.status):\n\(result.output)\n\(daemonLogs())") }
    }

    /// `lab.sh call` in the background; its output in call.log, its results in the call directory.
    func startCall(seconds: Int, hangup: String) throws -> Process {
        try background(["call", "--seconds", String(seconds), "--hangup", hangup, "--out", callDirectory], log: "call.log",
                       bound: seconds + 60)
    }

    func background(_ arguments: [String], log: String, bound: Int = 180) throws -> Process {
        let process = try spawn(["/usr/bin/timeout", "-k", "5", String(bound), "bash", Self.script] + arguments, log: scratch.child(log))
        processes.append(process)
        return process
    }

    private func spawn(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Polls the operator's views from 4 s into the call until the legs show the expected path
    /// (or the call ends); keeps the last view that had the call.
    func watchLiveCall(_ call: Process, offload: Bool) -> LiveView {
        var view = LiveView()
        let started = Date()
        usleep(4_000_000)
        while call.isRunning && Date().timeIntervalSince(started) < Double(ApplianceLabTests.callSeconds - 3) {
            do {
                let calls = (try vosctl.json("calls") as? [[String: Any]]) ?? []
                let sessions = (try vosctl.json("media", "sessions") as? [[String: Any]]) ?? []
                if calls.count == 1 {
                    view.call = calls[0]
                    view.session = sessions.first
                    view.seconds = (Date().timeIntervalSince(started) * 10).rounded() / 10
                    let paths = ((calls[0]["media"] as? [String: Any])?["legs"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
                    if Date().timeIntervalSince(started) >= 6, paths == Array(repeating: offload ? "kernel" : "userspace", count: 2) { break }
                } else {
                    view.problems.append("\(calls.count) calls at \(Int(Date().timeIntervalSince(started))) s")
                }
            } catch {
                view.problems.append("\(error)")
            }
            usleep(1_000_000)
        }
        return view
    }

    func summary() throws -> [String: Any] {
        let path = (callDirectory as NSString).appendingPathComponent("summary.json")
        let data = try #require(FileManager.default.contents(atPath: path), "lab.sh call wrote \(path):\n\(read("call.log"))")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: scratch.child(name), encoding: .utf8)) ?? "" }

    func daemonLogs() -> String {
        ["vos-mediad-pre.log", "vos-mediad.log", "vos-controller.log"].map { name in
            let text = (try? String(contentsOfFile: (stateDirectory as NSString).appendingPathComponent(name), encoding: .utf8)) ?? "(none)"
            return "[\(name)]\n" + text.split(separator: "\n").suffix(25).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// The lab's namespaces that exist now.
    func namespaces() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        return entries.filter { $0.hasPrefix(prefix + "-") }.sorted()
    }

    /// Labs left by a test process that no longer exists (killed mid-test): `lab.sh down` each.
    static func removeAbandonedLabs() {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        var prefixes = Set<String>()
        for name in entries where name.hasPrefix(prefixStart) {
            guard let dash = name.lastIndex(of: "-") else { continue }
            let labPrefix = String(name[..<dash])
            let digits = labPrefix.dropFirst(prefixStart.count).prefix { $0.isNumber }
            guard let pid = Int32(digits), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            prefixes.insert(labPrefix)
        }
        for labPrefix in prefixes {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = ["-k", "5", "60", "bash", script, "down"]
            var env = ProcessInfo.processInfo.environment
            env["LAB_PREFIX"] = labPrefix
            env["LAB_STATE_DIR"] = NSTemporaryDirectory() + "vos-lab-abandoned-\(labPrefix)"
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            if (try? process.run()) != nil { process.waitUntilExit() }
        }
    }

    func down() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        processes.removeAll()
        _ = try? lab(["down"])
    }
}

extension Process {
    /// Waits at most `seconds` for the process to exit, then SIGTERM (SIGKILL 5 s later); its exit status.
    func boundedWait(seconds: Double) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(100_000) }
        if isRunning {
            kill(processIdentifier, SIGTERM)
            let hard = Date().addingTimeInterval(5)
            while isRunning && Date() < hard { usleep(50_000) }
            if isRunning { kill(processIdentifier, SIGKILL) }
        }
        waitUntilExit()
        return terminationStatus
    }
}
