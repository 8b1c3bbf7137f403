import Testing
@testable import SIPCore

@Test func moduleLinks() { _ = SIPCore.self }
