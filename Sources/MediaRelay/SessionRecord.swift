import MediaControl

/// The control path's view of a session: which I/O thread and slot hold it, its ports and the
/// addresses the controller gave. Lives in the engine's directory, under the engine's lock.
struct SessionRecord: Sendable {
    struct Leg: Sendable {
        let local: MediaEndpoint
        var remote: MediaEndpoint?
        var latched: MediaEndpoint?
    }

    let id: UInt64
    let tag: String?
    let worker: Int
    let slot: Int
    let createdNanoseconds: UInt64
    let timeoutSeconds: Int
    let dscp: Int
    var legs: [Leg]
    var inKernel = false
}
