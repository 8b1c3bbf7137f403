import CBcg729
import CSpanDSP

/// MediaDSP owns codecs (G.711, G.729 via bcg729), DTMF events and tone detection/generation
/// (spandsp) and transcoding pipelines. It must not own sockets.
public enum MediaDSP {}
