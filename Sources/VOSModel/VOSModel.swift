/// VOSModel owns the domain: gateways, accounts, rate tables, system parameters (names, defaults,
/// ranges, validation), CDRs and end reasons, money and rating arithmetic, and addresses:
/// `IPAddress` (the one IP parser of vos, with its byte and kernel struct forms), `IPPrefix`,
/// `SIPAddress`; and `CreditLeaser`, where call control and the cluster store meet.
/// It must not do I/O: no files, sockets, clocks or store access.
public enum VOSModel {}
