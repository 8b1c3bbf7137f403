import Testing
@testable import MediaRelay

@Test func moduleLinks() { _ = MediaRelay.self }
