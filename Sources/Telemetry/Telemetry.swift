/// Telemetry: what the NOC sees of a daemon from outside it. Owns the Prometheus registry and
/// its HTTP endpoint, webhook delivery (JSON over HTTP with retries) and HEP v3 capture. It must
/// not decide call policy or read the store: daemons hand it values and events.
public enum Telemetry {}
