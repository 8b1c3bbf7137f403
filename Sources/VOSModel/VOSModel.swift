/// VOSModel owns the domain: gateways, accounts, rate tables, system parameters (names, defaults,
/// ranges, validation), CDRs and end reasons, money and rating arithmetic.
/// It must not do I/O: no files, sockets, clocks or store access.
public enum VOSModel {}
