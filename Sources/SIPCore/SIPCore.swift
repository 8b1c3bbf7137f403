/// SIPCore owns the SIP and SDP grammar: parsing and serializing messages, URIs, headers and SDP.
///
/// What it owns:
/// - Framing a datagram or stream prefix into a `SIPMessage` (start line, ordered headers with
///   their original names, body) under hard `SIPParserLimits`.
/// - Validating the headers every element relies on (Via, From, To, Call-ID, CSeq, Max-Forwards,
///   Content-Length, Contact, Expires, ...), so a message that parses is safe to route.
/// - Lazily decoded typed views of headers (`SIPVia`, `SIPNameAddress`, `SIPCSeq`, `SIPURI`) and
///   builders for responses and header edits.
/// - `SDPSession` parse/serialize and the rewrites a media relay needs.
/// - The digest grammar (`SIPDigestCredentials`, `SIPDigestChallenge`); checking them is Softswitch's.
/// - Deciding whether a malformed request can still be answered with a 400 (`SIPBadRequest`).
///
/// What it must not touch: sockets, clocks, randomness, logging, transactions, dialogs, routing or
/// billing. Everything here is a pure function of its input bytes, so it can be fuzzed.
public enum SIPCore {}
