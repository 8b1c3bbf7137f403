/// CallControl owns the controller's B2BUA: customer and vendor dialogs, call admission, vendor
/// failover, media sessions in vos-mediad, OPTIONS health checks, CDR writing and the status the
/// operator sees. It builds on SIPStack for transactions and Softswitch for decisions; it must
/// not parse bytes itself (SIPCore does) or open sockets other than through SIPStack and the
/// media control client.
public enum CallControl {}
