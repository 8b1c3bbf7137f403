/// Tags, branches and Call-IDs: unguessable enough that no peer can forge a dialog, cheap enough
/// for thousands of calls a second (xorshift seeded from the kernel, not a syscall per id).
struct IdentifierGenerator {
    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next() | 1
    }

    private mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func token() -> String {
        String(next(), radix: 36) + String(next() & 0xffff_ffff, radix: 36)
    }

    mutating func branch() -> String { "z9hG4bK" + token() }
}
