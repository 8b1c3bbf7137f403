/// Softswitch owns the decisions of a call that do not depend on wire formats: who the caller
/// is (mapping gateway by source), whether the call is admitted (CPS and concurrency limits),
/// which vendors to try in which order and when to stop failing over, and what end reason and
/// SIP code a failure becomes; whether digest credentials are right (nonces, replays, failures
/// towards suspension) and the registrar's bindings. It must not touch sockets, the store or SIP bytes: the controller
/// feeds it snapshots and counters and acts on its answers.
public enum Softswitch {}
