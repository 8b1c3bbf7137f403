import MediaControl

/// The control path's view of a session: which I/O thread and slot hold it, its ports and the
/// addresses the controller gave. Lives in the engine's directory, under the engine's lock.
struct SessionRecord: Sendable {
    struct Leg: Sendable {
        let local: MediaEndpoint
        var remote: MediaEndpoint?
        var latched: MediaEndpoint?
        /// The negotiated format the controller gave, if any.
        var media: LegMedia?
    }

    let id: UInt64
    let tag: String?
    let worker: Int
    let slot: Int
    let createdNanoseconds: UInt64
    let timeoutSeconds: Int
    let dscp: Int
    var legs: [Leg]
    /// Both legs' RTP is forwarded by the kernel (see `KernelOffload`).
    var inKernel = false
    /// The legs' formats differ: the session goes through a `SessionMediaPipeline` and is never
    /// offloaded.
    var decoded = false
    /// What the kernel relayed from each leg's far end during earlier offload periods (a flow's
    /// counters vanish with its elements when the session moves back to userspace).
    var kernelEarlier = [TrafficCounters(packets: 0, bytes: 0), TrafficCounters(packets: 0, bytes: 0)]

    mutating func addKernelEarlier(_ counters: OffloadCounters) {
        for (index, counted) in counters.received.prefix(2).enumerated() {
            kernelEarlier[index].packets &+= counted.packets
            kernelEarlier[index].bytes &+= counted.bytes
        }
    }
}
