/// SIPCore owns the SIP and SDP grammar: parsing and serializing messages, URIs, headers and SDP.
/// It must not do I/O, keep state between messages, or know routing or billing.
public enum SIPCore {}
