@testable import CallControl
import Foundation
import Logging
import MediaControl
import SIPCore
import SIPStack
import Softswitch
import Testing
import VOSModel
import VOSStore

/// The B2BUA in-process: SIP text in, SIP messages out, CDRs into a recording ledger, media
/// through a fake relay, and time that moves only when the test advances it.
///
/// The customer is 192.0.2.10:5060 (mapping gateway `cust`); vendors are 198.51.100.N:5060. The
/// switch shows the customer 192.0.2.1 and vendors 198.51.100.1, as the two-network lab does.
final class CallHarness {
    static let customer = SocketAddress.literal("192.0.2.10", 5060)
    static func vendor(_ host: Int) -> SocketAddress { .literal("198.51.100.\(host)", 5060) }

    let loop = ManualEventLoop()
    let layer: TransactionLayer
    let b2bua: B2BUA
    let ledger = RecordingLedger()
    let media = FakeMediaBridge()
    private(set) var sent: [(message: SIPMessage, to: SocketAddress)] = []
    /// Datagrams that are not SIP: NAT keep-alives.
    private(set) var keepAlives: [(payload: String, to: SocketAddress)] = []
    private var consumed = 0
    private var callCounter = 0

    init(parameters: [SystemParameter: String] = [:], vendors: [RoutingGateway], account: String? = nil,
         otherMapping: [MappingGateway] = [], geofence: [GeofenceRange] = [],
         numberLists: [NumberList] = [], numberGroups: [NumberGroup] = [],
         configure: (inout MappingGateway) -> Void = { _ in }) throws {
        var set = ParameterSet()
        // Media off unless a test asks: most call-control cases need no relay.
        try set.set(.mediaProxyMode, to: "0")
        for (key, value) in parameters { try set.set(key, to: value) }
        var mapping = MappingGateway(name: "cust", ips: [try IPAddress(parsing: "192.0.2.10")])
        mapping.account = account
        configure(&mapping)
        let snapshot = ControllerSnapshot(parameters: set, mapping: [mapping] + otherMapping, routing: vendors,
                                          numberLists: numberLists, numberGroups: numberGroups, geofence: geofence)
        layer = TransactionLayer(loop: loop)
        var logger = Logger(label: "call-control-test")
        logger.logLevel = .critical
        b2bua = B2BUA(loop: loop, layer: layer, snapshot: snapshot, media: media, ledger: ledger,
                      addresses: AdvertisedAddressChoice(), routeSource: Self.labRoute, advertisedPort: 5060, logger: logger)
        layer.attach(.udp) { [unowned self] bytes, address in
            if bytes.count <= 64, !bytes.contains(0x0A) {
                self.keepAlives.append((String(decoding: bytes, as: UTF8.self), address))
                return
            }
            do { self.sent.append((try SIPMessage(parsing: bytes), address)) } catch {
                Issue.record("vos sent a message it cannot parse itself (\(error)): \(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    /// The two-network lab's routes: each side through its own interface.
    static let labRoute: @Sendable (IPAddress) -> IPAddress? = { peer in
        let text = peer.description
        if text.hasPrefix("192.0.2.") { return try? IPAddress(parsing: "192.0.2.1") }
        if text.hasPrefix("198.51.100.") { return try? IPAddress(parsing: "198.51.100.1") }
        return nil
    }

    static func vendor(_ name: String, host: Int, prefix: String = "44", priority: Int = 1,
                       configure: (inout RoutingGateway) -> Void = { _ in }) -> RoutingGateway {
        var gateway = RoutingGateway(name: name, address: SIPAddress(host: "198.51.100.\(host)"), prefixes: [prefix])
        gateway.priority = priority
        gateway.optionsCheck = false
        configure(&gateway)
        return gateway
    }

    // MARK: Driving

    /// Delivers a message as if it arrived from `source`, then runs what it queued.
    func receive(_ text: String, from source: SocketAddress) {
        let bytes = Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
        bytes.withUnsafeBytes { layer.receive($0, from: Peer(address: source)) }
        loop.run()
    }

    func advance(seconds: Double) { loop.advance(by: .milliseconds(Int64(seconds * 1000))) }

    /// Messages sent since the last call, in order.
    func drain() -> [(message: SIPMessage, to: SocketAddress)] {
        defer { consumed = sent.count }
        return Array(sent[consumed...])
    }

    /// The customer's INVITE to `callee`; returns its Call-ID.
    @discardableResult
    func customerInvite(_ callee: String = "441234567", sdp: String? = CallHarness.offer, headers: [String] = []) -> String {
        callCounter += 1
        let callID = "call\(callCounter)@192.0.2.10"
        let body = sdp ?? ""
        receive("""
        INVITE sip:\(callee)@192.0.2.1 SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-inv\(callCounter)
        Max-Forwards: 70
        From: <sip:1000@192.0.2.10>;tag=caller\(callCounter)
        To: <sip:\(callee)@192.0.2.1>
        Call-ID: \(callID)
        CSeq: 1 INVITE
        Contact: <sip:1000@192.0.2.10:5060>
        \(headers.map { $0 + "\n" }.joined())\(sdp == nil ? "" : "Content-Type: application/sdp\n")Content-Length: \(body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8.count)

        \(body)
        """, from: Self.customer)
        return callID
    }

    static let offer = """
    v=0
    o=- 1 1 IN IP4 192.0.2.10
    s=-
    c=IN IP4 192.0.2.10
    t=0 0
    m=audio 40000 RTP/AVP 8 0 101
    a=rtpmap:8 PCMA/8000
    a=rtpmap:0 PCMU/8000
    a=rtpmap:101 telephone-event/8000

    """

    static let answerSDP = """
    v=0
    o=- 2 2 IN IP4 198.51.100.20
    s=-
    c=IN IP4 198.51.100.20
    t=0 0
    m=audio 50000 RTP/AVP 8
    a=rtpmap:8 PCMA/8000

    """

    /// A vendor's response to `request` (an INVITE vos sent it), with To tag and Contact.
    func respond(to request: SIPMessage, status: Int, reason: String, from vendor: SocketAddress,
                 sdp: String? = nil, headers: [(String, String)] = [], toTag: String = "callee") {
        var response = SIPMessage.response(to: request, status: status, reason: reason, toTag: status > 100 ? toTag : nil)
        if status > 100 && status < 300 { response.appendHeader("Contact", "<sip:vendor@\(vendor.ip):5060>") }
        for (name, value) in headers { response.appendHeader(name, value) }
        // `receive` turns every LF into CRLF, the body's too: its length must count them already.
        let body = sdp.map { $0.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n") }
        if let body { response.setBody(Array(body.utf8), contentType: "application/sdp") } else { response.setHeader("Content-Length", "0") }
        receive(String(decoding: response.serialized(), as: UTF8.self), from: vendor)
    }

    /// An in-dialog request from the customer (ACK, BYE, UPDATE, PRACK...); an ACK carries the
    /// CSeq number of the INVITE it acknowledges (`acknowledging`), and `sdp` a body.
    func customerRequest(_ method: String, callID: String, toTag: String, sequence: Int = 2, acknowledging: Int = 1,
                         branch: String = "z9hG4bK-c", headers: [String] = [], sdp: String? = nil,
                         contentType: String = "application/sdp") {
        let body = sdp ?? ""
        receive("""
        \(method) sip:vos@192.0.2.1:5060 SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5060;branch=\(branch)\(method)
        Max-Forwards: 70
        From: <sip:1000@192.0.2.10>;tag=caller\(callID.prefix { $0 != "@" }.dropFirst(4))
        To: <sip:441234567@192.0.2.1>;tag=\(toTag)
        Call-ID: \(callID)
        CSeq: \(method == "ACK" ? acknowledging : sequence) \(method)
        \(headers.map { $0 + "\n" }.joined())\(sdp == nil ? "" : "Content-Type: \(contentType)\n")Content-Length: \(body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8.count)

        \(body)
        """, from: Self.customer)
    }
}

extension SocketAddress {
    /// A test literal; a malformed one becomes an address nothing matches.
    static func literal(_ ip: String, _ port: Int) -> SocketAddress {
        (try? SocketAddress(ip: ip, port: port)) ?? SocketAddress(.v4(0), port: 0)
    }
}

extension Array where Element == (message: SIPMessage, to: SocketAddress) {
    func requests(_ method: String) -> [Element] { filter { $0.message.method == method } }
    func responses(_ status: Int) -> [Element] { filter { $0.message.statusCode == status } }
    var finalResponses: [Element] { filter { ($0.message.statusCode ?? 0) >= 200 } }
}

/// CDRs and billing calls as the B2BUA made them.
final class RecordingLedger: CallLedger {
    private(set) var records: [CallDetailRecord] = []
    var refusal: CallRefusal?
    var deadline = CallDeadline(connectedSeconds: nil, isFinal: false, releaseAt: nil, extendAt: nil)
    var answeredDeadline: CallDeadline?

    func authorize(_ request: CallAuthorizationRequest, policy: ReservationPolicy, clock: LocalClock?,
                   completion: @escaping @Sendable (CallAuthorization) -> Void) {
        completion(refusal.map { .refused($0) } ?? .granted(deadline))
    }

    func answered(_ key: String, at time: Int64, vendor: VendorLeg, policy: ReservationPolicy,
                  completion: @escaping @Sendable (CallDeadline?) -> Void) {
        completion(answeredDeadline)
    }
    func extend(_ key: String, now: Int64, policy: ReservationPolicy) -> CallDeadline? { nil }
    func checkpoint(_ connected: [(key: String, seconds: Int)], at time: Int64) {}

    func finish(_ key: String?, draft: CallDetailRecord, policy: ReservationPolicy) {
        records.append(draft)
    }

    func vendorBalances() -> [Account] { [] }
    func applyMonthlyCharges(at time: Int64) {}
}

/// A relay that hands out ports on the wildcard address, as vos-mediad does on the appliance,
/// and can be told to refuse.
final class FakeMediaBridge: MediaBridge {
    var refuses = false
    private(set) var created: [String] = []
    private(set) var remotes: [(session: String, leg: Int, remote: MediaEndpoint)] = []
    private(set) var formats: [(session: String, leg: Int, media: LegMedia)] = []
    private(set) var deleted: [String] = []
    private var nextPort = 20000

    private(set) var createdFormats: [[LegMedia]?] = []

    func createSession(tag: String, customerRemote: MediaEndpoint?, formats: [LegMedia]?,
                       completion: @escaping @Sendable (Result<CreatedMediaSession, MediaControlFailure>) -> Void) {
        if refuses { return completion(.failure(MediaControlFailure(.internalError, "test relay refuses"))) }
        let session = "s\(created.count + 1)"
        created.append(session)
        createdFormats.append(formats)
        nextPort += 4
        completion(.success(CreatedMediaSession(session: session, customerSide: MediaEndpoint(ip: "0.0.0.0", port: nextPort),
                                                vendorSide: MediaEndpoint(ip: "0.0.0.0", port: nextPort + 2))))
    }

    func update(session: String, leg: Int, remote: MediaEndpoint?, media: LegMedia?) {
        if let media { formats.append((session, leg, media)) }
        if let remote { remotes.append((session, leg, remote)) }
    }

    private(set) var played: [(session: String, leg: Int, digits: String, duration: Int)] = []

    /// What vos-mediad answers `dtmf` with; nil = played.
    var playRefusal: MediaControlFailure?

    func playDigits(session: String, leg: Int, digits: String, durationMilliseconds: Int,
                    completion: @escaping @Sendable (MediaControlFailure?) -> Void) {
        played.append((session, leg, digits, durationMilliseconds))
        completion(playRefusal)
    }

    func deleteSession(_ session: String, completion: @escaping @Sendable (SessionInfo?) -> Void) {
        deleted.append(session)
        completion(nil)
    }
}

/// A call as far as a test needs it: the customer's Call-ID and our tag towards it, and the
/// INVITE the vendor got.
struct ConnectedCall {
    let callID: String
    let customerTag: String
    let vendorInvite: SIPMessage
}

extension CallHarness {
    /// Sets up a call through `vendor` and answers it; the customer ACKs unless told not to.
    func connect(vendor: SocketAddress = CallHarness.vendor(20), acknowledge: Bool = true, offer: String = CallHarness.offer,
                 answer answerSDP: String = CallHarness.answerSDP) throws -> ConnectedCall {
        let callID = customerInvite(sdp: offer)
        guard let invite = drain().requests("INVITE").first?.message else { throw HarnessFailure("no INVITE reached the vendor") }
        respond(to: invite, status: 200, reason: "OK", from: vendor, sdp: answerSDP)
        guard let answer = drain().responses(200).first(where: { $0.to == CallHarness.customer })?.message,
              let tag = try answer.to().tag else { throw HarnessFailure("the customer got no 200 with a To tag") }
        if acknowledge { customerRequest("ACK", callID: callID, toTag: tag) }
        return ConnectedCall(callID: callID, customerTag: tag, vendorInvite: invite)
    }

    /// A request from the vendor inside the call's vendor dialog (BYE, re-INVITE...).
    func vendorRequest(_ method: String, in call: ConnectedCall, from vendor: SocketAddress = CallHarness.vendor(20)) throws {
        let invite = call.vendorInvite
        guard let from = invite.firstHeaderValue("From"), let to = invite.firstHeaderValue("To"), let callID = invite.callID else {
            throw HarnessFailure("the vendor INVITE lacks dialog headers")
        }
        let contact = (try? invite.contacts().first?.uri.description) ?? "sip:vos@198.51.100.1:5060"
        receive("""
        \(method) \(contact) SIP/2.0
        Via: SIP/2.0/UDP \(vendor.ip):5060;branch=z9hG4bK-v\(method)
        Max-Forwards: 70
        From: \(to);tag=callee
        To: \(from)
        Call-ID: \(callID)
        CSeq: 10 \(method)
        Content-Length: 0


        """, from: vendor)
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
