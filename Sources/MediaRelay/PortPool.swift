import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// Hands out RTP/RTCP port pairs (even, even + 1) from the configured range, bound and marked.
/// Ports another program holds are skipped. Not thread-safe: the engine calls it under its lock.
struct PortPool {
    private(set) var range: ClosedRange<Int>
    private var inUse: Set<Int> = []
    /// Where the next search starts, so a just-released port is not reused at once (late packets
    /// of the old call would land in the new one).
    private var cursor: Int

    /// A bound pair; `port` is the even RTP port.
    struct Pair {
        let port: Int
        let rtp: Int32
        let rtcp: Int32
    }

    /// SO_MARK every leg socket gets (see `RelayEngine.init`'s `sendMark`).
    private let socketMark: UInt32?

    init(range: ClosedRange<Int>, socketMark: UInt32? = nil) {
        self.range = range
        self.socketMark = socketMark
        cursor = Self.firstEven(range)
    }

    private static func firstEven(_ range: ClosedRange<Int>) -> Int { range.lowerBound + (range.lowerBound & 1) }

    /// How many pairs fit in `range`.
    private static func pairCount(_ range: ClosedRange<Int>) -> Int {
        max(0, (range.upperBound - firstEven(range) + 1) / 2)
    }

    mutating func changeRange(to newRange: ClosedRange<Int>) {
        guard newRange != range else { return }
        range = newRange
        cursor = Self.firstEven(newRange)
    }

    mutating func allocate(ip: String, tos: Int32) throws(RelayError) -> Pair {
        let first = Self.firstEven(range)
        let count = Self.pairCount(range)
        let base = try SocketAddress(relayIP: ip, port: 0)
        if cursor < first || cursor + 1 > range.upperBound { cursor = first }
        for _ in 0..<count {
            let port = cursor
            cursor += 2
            if cursor + 1 > range.upperBound { cursor = first }
            guard !inUse.contains(port), let rtpPort = UInt16(exactly: port), let rtcpPort = UInt16(exactly: port + 1) else { continue }
            guard case let .bound(rtp) = try MediaSocket.open(SocketAddress(base.address, port: rtpPort), tos: tos, mark: socketMark) else { continue }
            let rtcp: Int32
            do {
                guard case let .bound(fd) = try MediaSocket.open(SocketAddress(base.address, port: rtcpPort), tos: tos, mark: socketMark) else {
                    close(rtp)
                    continue
                }
                rtcp = fd
            } catch {
                close(rtp)
                throw error
            }
            inUse.insert(port)
            return Pair(port: port, rtp: rtp, rtcp: rtcp)
        }
        throw .portRangeExhausted(range: range, pairsInUse: inUse.count)
    }

    /// Call after the sockets are closed.
    mutating func release(port: Int) { inUse.remove(port) }
}
