#if canImport(Glibc)
import Glibc
#endif

/// One SIP message as `vosctl trace` shows it.
public struct SIPTraceMessage: Codable, Sendable, Equatable {
    /// Wall-clock microseconds since the Unix epoch, when vos received or queued it.
    public var time: Int64
    /// `in`: vos received it; `out`: vos sent it.
    public var direction: String
    /// `udp` or `tcp`.
    public var transport: String
    /// vos's address as the capture knew it, and the peer's (`IP:PORT`).
    public var local: String
    public var remote: String
    public var callID: String
    /// The whole message as it crossed the wire (cut at the ring's size, which it never reaches in practice).
    public var message: String
}

/// What the capture of SIP messages holds and does: the trace ring, and HEP as the controller
/// reports it (`vosctl trace` without a Call-ID).
public struct SIPCaptureStatus: Codable, Sendable, Equatable {
    public var ringCapacityBytes: Int
    public var ringCapacityMessages: Int
    public var ringMessages: Int
    public var ringBytes: Int
    /// Wall-clock microseconds of the oldest message held; nil when the ring is empty or off.
    public var ringOldest: Int64?
    /// Where HEP goes; nil while HEP capture is off.
    public var hepDestination: String?
    public var hepCaptureID: UInt32?
    public var hepSent: UInt64
    public var hepDropped: UInt64
    /// Why the last HEP datagram was dropped (strerror), if one was.
    public var hepLastError: String?

    public init(ringCapacityBytes: Int = 0, ringCapacityMessages: Int = 0, ringMessages: Int = 0, ringBytes: Int = 0,
                ringOldest: Int64? = nil, hepDestination: String? = nil, hepCaptureID: UInt32? = nil,
                hepSent: UInt64 = 0, hepDropped: UInt64 = 0, hepLastError: String? = nil) {
        self.ringCapacityBytes = ringCapacityBytes
        self.ringCapacityMessages = ringCapacityMessages
        self.ringMessages = ringMessages
        self.ringBytes = ringBytes
        self.ringOldest = ringOldest
        self.hepDestination = hepDestination
        self.hepCaptureID = hepCaptureID
        self.hepSent = hepSent
        self.hepDropped = hepDropped
        self.hepLastError = hepLastError
    }
}

/// The answer to `vosctl trace CALL-ID`: every leg's messages, oldest first, and the capture's state.
public struct SIPTrace: Codable, Sendable {
    public var callID: String
    public var messages: [SIPTraceMessage]
    public var capture: SIPCaptureStatus

    public init(callID: String, messages: [SIPTraceMessage], capture: SIPCaptureStatus) {
        self.callID = callID
        self.messages = messages
        self.capture = capture
    }
}

/// The most recent SIP messages in and out of the controller, what operators otherwise run
/// sngrep for: `vosctl trace CALL-ID` asks it for one call's ladder.
///
/// Bounded and preallocated: one byte arena (messages copied in back to back, wrapping to the
/// front when the tail is too short) and a ring of entries (time, direction, transport,
/// addresses, where the message and its Call-ID sit). Recording a message copies its bytes and
/// scans its header section for the Call-ID; it allocates nothing. The oldest messages give way
/// when either the bytes or the entries run out.
///
/// A B2BUA call has a Call-ID per leg: `link(leg:to:)` records that a vendor leg's Call-ID
/// belongs to a customer's call, so asking for either Call-ID returns both legs. Call-IDs are
/// compared by a 64-bit FNV-1a hash.
///
/// Loop-confined (recorded from the transports' paths on the SIP thread, asked through
/// `loop.execute`), so it takes no lock. It must not parse more than the Call-ID, nor send.
public final class SIPTraceRing {
    public enum Direction: UInt8, Sendable {
        case received
        case sent
    }

    struct Entry {
        var time: Int64
        var offset: Int
        var length: Int
        /// The Call-ID's value within the message (length 0: none found).
        var callIDStart: Int
        var callIDLength: Int
        var callIDHash: UInt64
        var local: SocketAddress
        var remote: SocketAddress
        var direction: Direction
        var transport: Peer.Transport

        static let empty = Entry(time: 0, offset: 0, length: 0, callIDStart: 0, callIDLength: 0, callIDHash: 0,
                                 local: SocketAddress(.v4(0), port: 0), remote: SocketAddress(.v4(0), port: 0),
                                 direction: .received, transport: .udp)
    }

    struct Link {
        var leg: UInt64
        var call: UInt64
    }

    /// Bytes per message the entry ring is sized for: SIP messages are rarely shorter.
    public static let typicalMessageBytes = 384

    public let capacityBytes: Int
    public let capacityMessages: Int
    private let arena: UnsafeMutableRawPointer
    private let entries: UnsafeMutablePointer<Entry>
    private var first = 0
    private var count = 0
    /// Where the next message goes; the newest one ends here.
    private var writeOffset = 0
    private var heldBytes = 0
    private let links: UnsafeMutablePointer<Link>
    private let linkCapacity: Int
    private var nextLink = 0
    private var linkCount = 0

    /// `capacityBytes` of messages, and as many entries as messages of typical size fill it
    /// unless `capacityMessages` says otherwise.
    public init(capacityBytes: Int, capacityMessages: Int? = nil) {
        self.capacityBytes = max(capacityBytes, 1024)
        self.capacityMessages = max(capacityMessages ?? self.capacityBytes / Self.typicalMessageBytes, 4)
        arena = UnsafeMutableRawPointer.allocate(byteCount: self.capacityBytes, alignment: 16)
        entries = .allocate(capacity: self.capacityMessages)
        entries.initialize(repeating: .empty, count: self.capacityMessages)
        // A call has one link per vendor attempt and several messages per leg.
        linkCapacity = max(self.capacityMessages / 4, 4)
        links = .allocate(capacity: linkCapacity)
        links.initialize(repeating: Link(leg: 0, call: 0), count: linkCapacity)
    }

    deinit {
        arena.deallocate()
        entries.deinitialize(count: capacityMessages)
        entries.deallocate()
        links.deinitialize(count: linkCapacity)
        links.deallocate()
    }

    public var messageCount: Int { count }
    public var byteCount: Int { heldBytes }
    /// Wall-clock microseconds of the oldest message held.
    public var oldestTime: Int64? { count == 0 ? nil : entries[first].time }

    // MARK: Recording (SIP thread, per message)

    /// Copies one message in, evicting the oldest ones it needs room from. A message longer than
    /// the whole arena keeps its first `capacityBytes`.
    public func record(_ message: UnsafeRawBufferPointer, direction: Direction, transport: Peer.Transport,
                       local: SocketAddress, remote: SocketAddress, time: Int64) {
        guard let source = message.baseAddress, message.count > 0 else { return }
        let length = min(message.count, capacityBytes)
        if count == capacityMessages { dropOldest() }
        if writeOffset + length > capacityBytes {
            // The tail is too short: what lies there is the oldest; start again at the front.
            while count > 0, entries[first].offset >= writeOffset { dropOldest() }
            writeOffset = 0
        }
        // Live messages at or after the write offset are the oldest, in arena order.
        while count > 0, entries[first].offset >= writeOffset, entries[first].offset < writeOffset + length { dropOldest() }
        let stored = UnsafeRawBufferPointer(start: arena + writeOffset, count: length)
        (arena + writeOffset).copyMemory(from: source, byteCount: length)
        let callID = Self.callIDRange(in: stored)
        let hash = callID.map { Self.hash(UnsafeRawBufferPointer(rebasing: stored[$0])) } ?? 0
        entries[(first + count) % capacityMessages] = Entry(
            time: time, offset: writeOffset, length: length,
            callIDStart: callID?.lowerBound ?? 0, callIDLength: callID?.count ?? 0, callIDHash: hash,
            local: local, remote: remote, direction: direction, transport: transport)
        count += 1
        writeOffset += length
        heldBytes += length
    }

    /// Records that the leg with Call-ID `legCallID` belongs to the call known by `callID` (the
    /// customer leg's). Once per vendor attempt.
    public func link(leg legCallID: String, to callID: String) {
        let leg = Self.hash(legCallID), call = Self.hash(callID)
        guard leg != call else { return }
        links[nextLink] = Link(leg: leg, call: call)
        nextLink = (nextLink + 1) % linkCapacity
        linkCount = min(linkCount + 1, linkCapacity)
    }

    private func dropOldest() {
        heldBytes -= entries[first].length
        first = (first + 1) % capacityMessages
        count -= 1
    }

    // MARK: Questions (loop thread, per operator request)

    /// Every message of the call `callID` belongs to (both legs), oldest first.
    public func messages(callID: String) -> [SIPTraceMessage] {
        let asked = Self.hash(callID)
        var call = asked
        // Newest link first: a leg belongs to the call that last claimed it.
        for back in 0..<linkCount {
            let link = links[(nextLink - 1 - back + linkCapacity) % linkCapacity]
            if link.leg == asked {
                call = link.call
                break
            }
        }
        var legs: [UInt64] = [call]
        for index in 0..<linkCount where links[index].call == call && !legs.contains(links[index].leg) {
            legs.append(links[index].leg)
        }
        var found: [SIPTraceMessage] = []
        for position in 0..<count {
            let entry = entries[(first + position) % capacityMessages]
            guard entry.callIDLength > 0, legs.contains(entry.callIDHash) else { continue }
            found.append(view(entry))
        }
        return found
    }

    public var status: SIPCaptureStatus {
        SIPCaptureStatus(ringCapacityBytes: capacityBytes, ringCapacityMessages: capacityMessages,
                         ringMessages: count, ringBytes: heldBytes, ringOldest: oldestTime)
    }

    private func view(_ entry: Entry) -> SIPTraceMessage {
        let bytes = UnsafeRawBufferPointer(start: arena + entry.offset, count: entry.length)
        let callID = UnsafeRawBufferPointer(rebasing: bytes[entry.callIDStart..<entry.callIDStart + entry.callIDLength])
        return SIPTraceMessage(time: entry.time, direction: entry.direction == .received ? "in" : "out",
                               transport: entry.transport.rawValue.lowercased(),
                               local: entry.local.description, remote: entry.remote.description,
                               callID: String(decoding: callID, as: UTF8.self),
                               message: String(decoding: bytes, as: UTF8.self))
    }

    // MARK: Byte scanning (no allocation)

    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")
    private static let sipVersion = Array("SIP/2.0".utf8)

    /// Whether `message` starts with a SIP start line: `SIP/2.0 ...` (a response) or one ending in
    /// ` SIP/2.0` (a request). Keep-alives (CRLF, `HELLO`) are not.
    public static func isSIPMessage(_ message: UnsafeRawBufferPointer) -> Bool {
        let version = sipVersion.count
        guard message.count > version + 1 else { return false }
        if matches(message, at: 0, sipVersion), message[version] == space { return true }
        var end = lineEnd(message, from: 0)
        if end > 0, message[end - 1] == cr { end -= 1 }
        return end > version && message[end - version - 1] == space && matches(message, at: end - version, sipVersion)
    }

    /// The index of the next LF at or after `start`, or the end (memchr: headers are scanned per message).
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard let base = bytes.baseAddress, start < bytes.count,
              let found = memchr(base + start, Int32(lf), bytes.count - start) else { return bytes.count }
        return UnsafeRawPointer(found) - base
    }

    private static func matches(_ bytes: UnsafeRawBufferPointer, at start: Int, _ expected: [UInt8]) -> Bool {
        guard start >= 0, start + expected.count <= bytes.count else { return false }
        for index in 0..<expected.count where bytes[start + index] != expected[index] { return false }
        return true
    }

    /// Where the value of the `Call-ID` (or compact `i`) header is, searched in the header section
    /// only, without the white space around it.
    public static func callIDRange(in message: UnsafeRawBufferPointer) -> Range<Int>? {
        let end = message.count
        // The start line holds no header (a Request-URI may contain "i:").
        var index = lineEnd(message, from: 0) + 1
        while index < end {
            let lineStart = index
            index = self.lineEnd(message, from: index)
            var lineEnd = index
            index += 1
            if lineEnd > lineStart, message[lineEnd - 1] == cr { lineEnd -= 1 }
            // An empty line ends the header section.
            if lineEnd == lineStart { return nil }
            guard let valueStart = callIDValueStart(message, lineStart, lineEnd) else { continue }
            var start = valueStart, stop = lineEnd
            while start < stop, message[start] == space || message[start] == tab { start += 1 }
            while stop > start, message[stop - 1] == space || message[stop - 1] == tab { stop -= 1 }
            return start < stop ? start..<stop : nil
        }
        return nil
    }

    /// After the colon of a `Call-ID` / `i` header line (names are case-insensitive), else nil.
    private static func callIDValueStart(_ message: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var index = start
        let first = message[index] | 0x20
        if first == UInt8(ascii: "i") {
            index += 1
        } else if first == UInt8(ascii: "c"), end - start >= 7 {
            let name = "call-id".utf8
            for expected in name {
                let byte = message[index]
                // Letters compare case-insensitively; the hyphen exactly.
                guard byte == expected || (expected != UInt8(ascii: "-") && byte | 0x20 == expected) else { return nil }
                index += 1
            }
        } else {
            return nil
        }
        while index < end, message[index] == space || message[index] == tab { index += 1 }
        guard index < end, message[index] == colon else { return nil }
        return index + 1
    }

    /// 64-bit FNV-1a.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return value
    }

    static func hash(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}
