import Foundation
import Testing
import VOSTestSupport

/// The controller's stop as systemd does it (SIGTERM): calls in progress are drained, new ones get
/// 503, what is left at SS_SHUTDOWN_DRAIN_TIME is hung up with CDRs; logs stay one line per event.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LifecycleTests {
    @Test func sigtermLetsTheCallInProgressFinishAndRefusesNewCallsWith503() throws {
        let lab = try SwitchLab()
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        let controller = try lab.startController()
        let vendor = try lab.uas(port: port)
        let first = try lab.uac("4420", ["-d", "4000"])
        #expect(eventually(seconds: 5) { (try? lab.vosctl.ok("calls").contains("connected")) == true },
                "the first call was connected before the stop")
        kill(controller.process.processIdentifier, SIGTERM)
        #expect(controller.waitForLog("draining: new calls are refused with 503 while 1 calls finish"), "\(controller.log)")
        let second = try lab.uac("4421", scenario: try lab.scenario("uac_expect", ["__STATUS__": "503"]))
        second.wait(seconds: 10)
        #expect(second.successfulCalls == 1, "a new call during the drain gets 503: \(second.output)")
        first.wait(seconds: 15)
        #expect(first.successfulCalls == 1, "the call in progress ended normally: \(first.output)")
        #expect(eventually(seconds: 10) { !controller.process.isRunning }, "the controller exits once no call is left")
        #expect(controller.process.terminationStatus == 0)
        #expect(controller.log.contains("drained: no calls left"))
        let records = try lab.cdrs()
        #expect(records.count == 1, "the refused call reached no routing, so only the drained call has a CDR: \(records)")
        #expect(records.first?.reason == "CallerHangup")
        _ = vendor
    }

    @Test func callsLeftWhenTheDrainTimeIsOverAreHungUpWithControllerRestart() throws {
        let lab = try SwitchLab()
        try lab.vosctl.ok("param", "set", "SS_SHUTDOWN_DRAIN_TIME", "1")
        let port = TestPorts.allocate(8)
        try lab.vendor("ven", port: port)
        // As under systemd: lines carry their syslog priority and no timestamp of their own.
        let controller = try lab.startController(environment: ["JOURNAL_STREAM": "8:12345"])
        let vendor = try lab.uas(port: port)
        let customer = try lab.uac("4420", scenario: try lab.scenario("uac_wait_bye", ["__TIMEOUT__": "20000"]))
        #expect(eventually(seconds: 5) { (try? lab.vosctl.ok("calls").contains("connected")) == true })
        let started = Date()
        kill(controller.process.processIdentifier, SIGTERM)
        customer.wait(seconds: 15)
        #expect(customer.successfulCalls == 1, "the customer got a BYE from the stopping switch: \(customer.output)")
        #expect(eventually { vendor.successfulCalls == 1 }, "the vendor got a BYE too: \(vendor.output)")
        #expect(eventually(seconds: 10) { !controller.process.isRunning })
        #expect(controller.process.terminationStatus == 0)
        #expect(Date().timeIntervalSince(started) < 10, "the stop took the drain time, not systemd's timeout")
        let record = try #require(try lab.waitForCDRs(1).first)
        #expect(record.reason == "ControllerRestart")
        #expect(record["hangupSide"] as? String == "system")
        let callID = try #require(record["callID"] as? String)
        let lines = controller.log.split(separator: "\n")
        let hangUp = lines.filter { $0.contains("hung up: the drain time is over") }
        #expect(hangUp.count == 1)
        #expect(hangUp.first?.hasPrefix("<6>vos-controller: ") == true, "info priority for journald: \(hangUp)")
        #expect(hangUp.first?.hasSuffix("call-id=\(callID)") == true, "the call id is in the line's metadata: \(hangUp)")
        #expect(lines.allSatisfy { $0.hasPrefix("<") }, "every line is one event with its priority:\n\(controller.log)")
    }

    @Test func everyBinaryReportsTheSameVersion() throws {
        var versions: [String] = []
        for binary in ["vosctl", "vos-controller", "vos-mediad"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Vosctl.binary(binary))
            process.arguments = ["--version"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(binary) --version: \(text)")
            versions.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(Set(versions).count == 1, "\(versions)")
        let first = try #require(versions.first)
        #expect(first.split(separator: ".").count == 3, "a release number: \(first)")
        let scratch = try Scratch()
        let report = try Vosctl(dataDirectory: scratch.child("var")).ok("version")
        #expect(report.contains("vos \(first)"))
        #expect(report.contains("store schema "))
    }
}
