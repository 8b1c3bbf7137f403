import SIPCore
import SIPStack

/// One side of a B2BUA call as a UA sees it (RFC 3261 §12): the identifiers that put a request
/// in this dialog and where to send it. The B2BUA holds two: the customer side and the vendor side.
struct DialogLeg {
    var callID: String
    var localTag: String
    var remoteTag: String?
    /// The From value of requests we send in this dialog (with our tag).
    var localParty: String
    /// The To value of requests we send (with the remote tag once known).
    var remoteParty: String
    /// Request-URI for requests we send: the peer's Contact.
    var remoteTarget: SIPURI
    var peer: Peer
    var localSequence: UInt32
    /// Our address as this peer sees it (Via, Contact, SDP): SIP host form, IPv6 in brackets.
    var localHost: String

    var key: String { DialogLeg.key(callID: callID, localTag: localTag) }

    static func key(callID: String, localTag: String) -> String { callID + ";" + localTag }

    /// A new in-dialog request with the next CSeq.
    mutating func request(_ method: String, via: SIPVia, contact: String?) -> SIPMessage {
        localSequence += 1
        return request(method, sequence: localSequence, via: via, contact: contact)
    }

    func request(_ method: String, sequence: UInt32, via: SIPVia, contact: String?) -> SIPMessage {
        var message = SIPMessage(startLine: .request(method: method, uri: remoteTarget, version: "SIP/2.0"))
        message.appendHeader("Via", via.description)
        message.appendHeader("Max-Forwards", "70")
        message.appendHeader("From", localParty)
        message.appendHeader("To", remoteParty)
        message.appendHeader("Call-ID", callID)
        message.appendHeader("CSeq", "\(sequence) \(method)")
        if let contact { message.appendHeader("Contact", contact) }
        return message
    }
}
