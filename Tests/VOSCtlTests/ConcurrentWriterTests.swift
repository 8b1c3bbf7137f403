import Foundation
import Testing
import VOSTestSupport

@Suite struct ConcurrentWriterTests {
    /// Two processes writing at once: LMDB serialises them, nothing is lost or half-written.
    @Test func twoProcessesWritingAtOnceLoseNothing() throws {
        let scratch = try Scratch()
        let vosctl = Vosctl(dataDirectory: scratch.child("var"))
        try vosctl.ok("init")
        let data = scratch.child("var")
        let first = try ShellLoop.start("for i in $(seq 1 30); do \(Vosctl.path) --data-dir \(data) account add a$i --type prepaid >/dev/null || exit 1; done")
        let second = try ShellLoop.start("for i in $(seq 1 30); do \(Vosctl.path) --data-dir \(data) gateway add routing r$i --address 198.51.100.7 --prefix $i >/dev/null || exit 1; done")
        #expect(first.wait() == 0)
        #expect(second.wait() == 0)
        #expect((try vosctl.json("account", "list") as? [Any])?.count == 30)
        #expect(((try vosctl.json("gateway", "list") as? [String: Any])?["routing"] as? [Any])?.count == 30)
    }
}
