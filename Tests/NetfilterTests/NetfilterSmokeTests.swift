import Testing
@testable import Netfilter

@Test func moduleLinks() { _ = Netfilter.self }
