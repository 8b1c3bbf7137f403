// Transcoding load generator: N calls, each a caller socket sending real PCMA (A-law of a tone) and
// a callee socket sending real G.729 (bcg729-encoded tone), 20 ms packets at 50 packets/s each way,
// through a relay that transcodes between them. One thread, epoll + recvmmsg.
//
// Usage: loadgen --map FILE --duration S --warmup S [--pid RELAY_PID] [--label NAME]
//                [--caller-tone HZ] [--callee-tone HZ] [--verify-calls N] [--pcm-dump PREFIX] [--trace FILE]
//   map lines: "caller_port callee_port relay_port_for_caller relay_port_for_callee"
//
// A transcoded packet carries no send stamp of ours, so latency is matched by position: with
// equal 20 ms ptime on both legs, output packet k of a direction corresponds to input packet k.
// The index of a received packet is its RTP timestamp's distance (in 160-sample steps) from the
// first packet received on that socket, which is taken to be input packet 0; a relay that drops
// a packet but keeps the timestamp gap (as it should) keeps the match. Latency = arrival time of
// output k - send time of input k, counted for inputs sent inside the measured window.
// Cross-checks: `early` counts outputs that arrived before their matched input was sent, and
// `ts_index_not_arrival_count` outputs whose timestamp index differs from the number of outputs
// received before them on that socket (after a loss every later packet counts; without loss
// it must be 0, and then the match is exact whatever the relay does with timestamps).
// --trace FILE: per second of send time and direction, mean and max latency.
//
// Loss per direction: packets sent minus outputs that map into the sent packets' index range (at
// most one per input). Outputs past the last input (comfort noise once the input stops) are extra.
// A relay with a jitter buffer may insert or drop 10 ms frames, shifting its output timeline by 80
// samples: indexes are rounded to the nearest 20 ms (`off_grid` counts such outputs), so each such
// event moves the latency match by 10 ms at most. Comfort noise played before the first audio
// (a buffer filling) is skipped when choosing input 0 (`preroll`).
// Checks what arrives: the caller must get PT 8 with 160-byte payloads, the callee PT 18 with
// 20-byte payloads (two 10-byte G.729 frames). For the first --verify-calls calls, both sides
// decode what they receive (A-law; bcg729) and report the dominant frequency and the share of
// the signal's power at the other side's tone.
// Prints one line of key=value results on stdout.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define HISTOGRAM_BUCKETS 200000 /* 5 us each: 0..1 s */
#define BUCKET_NS 5000
#define SAMPLES 160              /* 20 ms at 8 kHz */
#define LOOP_FRAMES 250          /* 5 s of tone, looped */
#define PT_PCMA 8
#define PT_G729 18
#define PCMA_BYTES 160
#define G729_BYTES 20
#define VERIFY_SECONDS 4         /* decoded audio kept per verified side */

typedef struct {
    int fd;
    int side;                    /* 0 caller (sends PCMA), 1 callee (sends G.729) */
    struct sockaddr_in target;
    uint16_t seq;
    uint32_t ts;
    uint32_t sent;               /* packets sent so far = index of the next one */
    uint64_t *sent_at;           /* send time of each packet index */
    /* what this socket receives (output of the peer's stream) */
    int have_first;
    uint32_t first_ts;
    uint64_t received, bad_format, unmatched, early, unique, duplicates, in_range, off_grid, preroll;
    uint8_t *got;                /* input indexes whose output arrived */
    uint64_t matched_in_order, off_order; /* cross-check: timestamp index vs arrival count */
    /* verification */
    bcg729DecoderChannelContextStruct *decoder;
    int16_t *pcm;
    int pcm_len;
} stream_t;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t cpu_ticks(int pid) {
    if (pid <= 0) return 0;
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return 0;
    unsigned long utime = 0, stime = 0;
    // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
        field++;
        if (field == 14) utime = strtoul(tok, NULL, 10);
        if (field == 15) { stime = strtoul(tok, NULL, 10); break; }
    }
    return utime + stime;
}

static int open_socket(int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { perror("socket"); exit(2); }
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { fprintf(stderr, "bind %d: %s\n", port, strerror(errno)); exit(2); }
    return fd;
}

// G.711 A-law (ITU-T G.711), 16-bit linear in.
static uint8_t alaw_encode(int16_t pcm) {
    int sample = pcm >> 3; /* 13-bit */
    uint8_t mask;
    if (sample >= 0) mask = 0xD5; else { mask = 0x55; sample = -sample - 1; }
    static const int seg_end[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
    int seg = 0;
    while (seg < 8 && sample > seg_end[seg]) seg++;
    if (seg >= 8) return (uint8_t)(0x7F ^ mask);
    uint8_t aval = (uint8_t)(seg << 4);
    aval |= (seg < 2) ? (sample >> 1) & 0x0F : (sample >> seg) & 0x0F;
    return aval ^ mask;
}

static int16_t alaw_decode(uint8_t a) {
    a ^= 0x55;
    int t = (a & 0x0F) << 4;
    int seg = (a & 0x70) >> 4;
    if (seg == 0) t += 8;
    else if (seg == 1) t += 0x108;
    else { t += 0x108; t <<= seg - 1; }
    return (int16_t)((a & 0x80) ? t : -t);
}

static void tone(int16_t *out, int n, double hz) {
    for (int i = 0; i < n; i++) out[i] = (int16_t)lrint(8000.0 * sin(2 * M_PI * hz * i / 8000.0));
}

// Power of x at hz (Goertzel), normalised so a full-scale sine's share of total power reads ~1.
static double goertzel(const int16_t *x, int n, double hz) {
    double w = 2 * M_PI * hz / 8000.0, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) { double s0 = x[i] + c * s1 - s2; s2 = s1; s1 = s0; }
    return (s1 * s1 + s2 * s2 - c * s1 * s2) * 2.0 / n;
}

// Dominant frequency (10 Hz grid, 100..3900 Hz) and share of power at `expect` +-20 Hz
// over the last second of decoded audio.
static void analyse(const stream_t *s, double expect, double *dominant, double *share) {
    *dominant = 0; *share = 0;
    int n = 8000;
    if (s->pcm_len < n + 8000) return; /* skip the first second (decoder start) */
    const int16_t *x = s->pcm + s->pcm_len - n;
    double total = 0;
    for (int i = 0; i < n; i++) total += (double)x[i] * x[i];
    if (total <= 0) return;
    double best = -1;
    for (double hz = 100; hz <= 3900; hz += 10) {
        double p = goertzel(x, n, hz);
        if (p > best) { best = p; *dominant = hz; }
    }
    double at = 0;
    for (double hz = expect - 20; hz <= expect + 20; hz += 10) { double p = goertzel(x, n, hz); if (p > at) at = p; }
    *share = at / total;
}

int main(int argc, char **argv) {
    const char *map = NULL, *label = "relay", *pcm_dump = NULL, *trace = NULL;
    double duration = 15, warmup = 3, tone_hz[2] = {1000, 600};
    int pid = 0, verify_calls = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--map")) map = argv[i + 1];
        else if (!strcmp(argv[i], "--duration")) duration = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid")) pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--label")) label = argv[i + 1];
        else if (!strcmp(argv[i], "--caller-tone")) tone_hz[0] = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--callee-tone")) tone_hz[1] = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--verify-calls")) verify_calls = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--pcm-dump")) pcm_dump = argv[i + 1];
        else if (!strcmp(argv[i], "--trace")) trace = argv[i + 1];
    }
    if (!map) { fprintf(stderr, "loadgen: --map FILE is required\n"); return 64; }

    // Pre-encoded payloads: 5 s of each side's tone, looped.
    int16_t *pcm = malloc(sizeof(int16_t) * SAMPLES * LOOP_FRAMES);
    static uint8_t pcma[LOOP_FRAMES][PCMA_BYTES], g729[LOOP_FRAMES][G729_BYTES];
    tone(pcm, SAMPLES * LOOP_FRAMES, tone_hz[0]);
    for (int f = 0; f < LOOP_FRAMES; f++)
        for (int i = 0; i < SAMPLES; i++) pcma[f][i] = alaw_encode(pcm[f * SAMPLES + i]);
    tone(pcm, SAMPLES * LOOP_FRAMES, tone_hz[1]);
    bcg729EncoderChannelContextStruct *encoder = initBcg729EncoderChannel(0);
    for (int f = 0; f < LOOP_FRAMES; f++)
        for (int half = 0; half < 2; half++) {
            uint8_t length = 0;
            bcg729Encoder(encoder, pcm + f * SAMPLES + half * 80, g729[f] + half * 10, &length);
            if (length != 10) { fprintf(stderr, "bcg729 gave a %d-byte frame\n", length); return 2; }
        }
    closeBcg729EncoderChannel(encoder);
    free(pcm);

    FILE *f = fopen(map, "r");
    if (!f) { perror(map); return 2; }
    int capacity = 8192, count = 0;
    stream_t *streams = calloc(capacity, sizeof *streams);
    const uint32_t max_packets = (uint32_t)((warmup + duration) * 50) + 100;
    int caller, callee, relay_a, relay_b;
    while (count + 2 <= capacity && fscanf(f, "%d %d %d %d", &caller, &callee, &relay_a, &relay_b) == 4) {
        int ports[2] = {caller, callee}, relays[2] = {relay_a, relay_b};
        for (int k = 0; k < 2; k++) {
            stream_t *s = &streams[count++];
            s->side = k;
            s->fd = open_socket(ports[k]);
            s->target.sin_family = AF_INET;
            s->target.sin_port = htons(relays[k]);
            s->target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            s->seq = (uint16_t)rand();
            s->ts = (uint32_t)rand();
            s->sent_at = calloc(max_packets, sizeof(uint64_t));
            s->got = calloc(max_packets, 1);
            if (count / 2 <= verify_calls) {
                s->pcm = calloc((size_t)VERIFY_SECONDS * 8000 + SAMPLES, sizeof(int16_t));
                if (k == 1) s->decoder = initBcg729DecoderChannel();
            }
        }
    }
    fclose(f);
    if (count == 0) { fprintf(stderr, "loadgen: no calls in %s\n", map); return 2; }

    int ep = epoll_create1(0);
    for (int i = 0; i < count; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].fd, &ev);
    }
    // --trace: per second of send time and direction, mean and max latency (where a queue builds).
    const int trace_seconds = (int)(warmup + duration) + 2;
    double *trace_sum = calloc((size_t)trace_seconds * 2, sizeof(double));
    uint64_t *trace_count = calloc((size_t)trace_seconds * 2, sizeof(uint64_t)), *trace_max = calloc((size_t)trace_seconds * 2, sizeof(uint64_t));
    uint64_t *histogram[2] = {calloc(HISTOGRAM_BUCKETS, sizeof(uint64_t)), calloc(HISTOGRAM_BUCKETS, sizeof(uint64_t))};
    unsigned char packet[12 + PCMA_BYTES];
    unsigned char rx[BATCH][2048];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = rx[i];
        iov[i].iov_len = sizeof rx[i];
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    // Streams take turns at evenly spaced instants: one send every 20 ms / count.
    const uint64_t spacing = (uint64_t)(20e6 / count);
    const uint64_t start = now_ns();
    const uint64_t measure_from = start + (uint64_t)(warmup * 1e9);
    const uint64_t stop_sending = measure_from + (uint64_t)(duration * 1e9);
    // After the last send, read until every input's output came, or nothing came for 300 ms, or 2 s
    // passed (a relay that plays comfort noise once the input stops is never quiet).
    const uint64_t drain_quiet = 300000000ull, drain_limit = stop_sending + 2000000000ull;
    uint64_t in_range_total = 0; /* outputs within the inputs' index range (at most one per input), both directions */
    uint64_t last_received_ns = 0;
    uint64_t tick = 0, sent[2] = {0, 0}, send_errors = 0, late_sends = 0;
    uint64_t cpu_start = 0, cpu_end = 0, measure_start_ns = 0, measure_end_ns = 0;
    int measuring = 0;
    struct epoll_event events[256];

    for (;;) {
        uint64_t now = now_ns();
        if (!measuring && now >= measure_from && measure_start_ns == 0) {
            measuring = 1;
            cpu_start = cpu_ticks(pid);
            measure_start_ns = now;
        }
        if (measuring && now >= stop_sending) {
            measuring = 0;
            cpu_end = cpu_ticks(pid);
            measure_end_ns = now;
        }
        if (now >= stop_sending && (now >= drain_limit || in_range_total >= sent[0] + sent[1] || now - (last_received_ns > stop_sending ? last_received_ns : stop_sending) >= drain_quiet)) break;
        if (now < stop_sending) {
            int budget = 512;
            while (budget-- > 0 && start + tick * spacing <= now) {
                uint64_t due = start + tick * spacing;
                stream_t *s = &streams[tick % count];
                tick++;
                if (s->sent >= max_packets) continue;
                s->seq++;
                s->ts += SAMPLES;
                int frame = s->sent % LOOP_FRAMES;
                packet[0] = 0x80;
                packet[1] = s->side == 0 ? PT_PCMA : PT_G729;
                packet[2] = s->seq >> 8; packet[3] = s->seq & 0xff;
                uint32_t ts = htonl(s->ts);
                memcpy(packet + 4, &ts, 4);
                uint32_t ssrc = htonl(0x10000000u + (uint32_t)(s - streams));
                memcpy(packet + 8, &ssrc, 4);
                size_t length;
                if (s->side == 0) { memcpy(packet + 12, pcma[frame], PCMA_BYTES); length = 12 + PCMA_BYTES; }
                else { memcpy(packet + 12, g729[frame], G729_BYTES); length = 12 + G729_BYTES; }
                uint64_t stamp = now_ns();
                if (stamp - due > 5000000) late_sends++;
                if (sendto(s->fd, packet, length, 0, (struct sockaddr *)&s->target, sizeof s->target) == (ssize_t)length) {
                    s->sent_at[s->sent] = stamp;
                    sent[s->side]++;
                } else {
                    s->sent_at[s->sent] = 0;
                    send_errors++;
                }
                s->sent++;
            }
        }
        // 1 ms ticks: the generator sleeps between them instead of spinning a core the relays need.
        int ready = epoll_wait(ep, events, 256, 1);
        for (int e = 0; e < ready; e++) {
            stream_t *r = &streams[events[e].data.u32];
            stream_t *peer = &streams[events[e].data.u32 ^ 1];
            int direction = peer->side; /* 0: caller->callee, 1: callee->caller */
            int n = recvmmsg(r->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
            uint64_t arrived = now_ns();
            if (n > 0) last_received_ns = arrived;
            for (int m = 0; m < n; m++) {
                unsigned len = msgs[m].msg_len;
                if (len < 12 || (rx[m][0] & 0xC0) != 0x80) continue;
                int pt = rx[m][1] & 0x7F;
                if (pt >= 72 && pt <= 76) continue; /* RTCP */
                unsigned payload = len - 12 - 4 * (rx[m][0] & 0x0F);
                const unsigned char *body = rx[m] + len - payload;
                r->received++;
                int expect_pt = r->side == 0 ? PT_PCMA : PT_G729;
                unsigned expect_len = r->side == 0 ? PCMA_BYTES : G729_BYTES;
                if (pt != expect_pt || payload != expect_len) {
                    if (r->bad_format++ == 0)
                        fprintf(stderr, "%s: %s got PT %d with %u-byte payload (want PT %d, %u bytes)\n", label,
                                r->side == 0 ? "caller" : "callee", pt, payload, expect_pt, expect_len);
                    continue;
                }
                uint32_t ts;
                memcpy(&ts, rx[m] + 4, 4);
                ts = ntohl(ts);
                if (!r->have_first) {
                    // A relay may play comfort noise before the first audio (a jitter buffer filling):
                    // input 0 is the first output that carries the tone. A-law: mean level above 100
                    // (comfort noise ~20, the tone ~5000, a G.729 decoder's first frame ~600).
                    // G.729 output gets no comfort noise.
                    if (r->side == 0) {
                        long level = 0;
                        for (unsigned i = 0; i < payload; i++) level += labs((long)alaw_decode(body[i]));
                        if (level / (long)payload < 100) { r->preroll++; continue; }
                    }
                    r->have_first = 1;
                    r->first_ts = ts;
                }
                int32_t steps = (int32_t)(ts - r->first_ts);
                // Nearest 20 ms step: a jitter buffer that inserts or drops a 10 ms frame shifts
                // the output timeline by 80 samples (each such event moves the match by 10 ms).
                if (steps % SAMPLES) r->off_grid++;
                uint32_t index = (uint32_t)((steps + SAMPLES / 2) / SAMPLES);
                if (index == r->matched_in_order) r->matched_in_order++; else r->off_order++;
                if (steps < -SAMPLES / 2 || index >= peer->sent || !peer->sent_at[index]) { r->unmatched++; }
                else {
                    if (r->in_range < peer->sent) { r->in_range++; in_range_total++; }
                    if (r->got[index]) { r->duplicates++; goto decoded; }
                    r->got[index] = 1;
                    r->unique++;
                    uint64_t stamp = peer->sent_at[index];
                    if (arrived < stamp) r->early++; /* output before its input: the match is off */
                    int second = (int)((stamp - start) / 1000000000ull);
                    if (second < trace_seconds && arrived >= stamp) {
                        int slot = second * 2 + direction;
                        trace_sum[slot] += (double)(arrived - stamp);
                        trace_count[slot]++;
                        if (arrived - stamp > trace_max[slot]) trace_max[slot] = arrived - stamp;
                    }
                    if (stamp >= measure_from && stamp < stop_sending) {
                        uint64_t bucket = arrived > stamp ? (arrived - stamp) / BUCKET_NS : 0;
                        histogram[direction][bucket < HISTOGRAM_BUCKETS ? bucket : HISTOGRAM_BUCKETS - 1]++;
                    }
                }
            decoded:
                if (r->pcm && r->pcm_len + SAMPLES <= VERIFY_SECONDS * 8000) {
                    if (r->side == 0) for (int i = 0; i < SAMPLES; i++) r->pcm[r->pcm_len + i] = alaw_decode(body[i]);
                    else for (int half = 0; half < 2; half++)
                        bcg729Decoder(r->decoder, body + half * 10, 10, 0, 0, 0, r->pcm + r->pcm_len + half * 80);
                    r->pcm_len += SAMPLES;
                }
            }
        }
    }
    if (measure_end_ns == 0) { measure_end_ns = now_ns(); cpu_end = cpu_ticks(pid); }

    uint64_t received[2] = {0, 0}, bad[2] = {0, 0}, unmatched[2] = {0, 0}, early = 0, off_order = 0, off_grid = 0, duplicates = 0, preroll = 0;
    uint64_t packets_in[2] = {0, 0}, extra[2] = {0, 0};
    for (int i = 0; i < count; i++) {
        int direction = streams[i].side ^ 1; /* what a socket receives comes from the other side */
        received[direction] += streams[i].in_range;
        off_grid += streams[i].off_grid;
        duplicates += streams[i].duplicates;
        packets_in[direction] += streams[i].received;
        extra[direction] += streams[i].received - streams[i].bad_format - streams[i].in_range;
        preroll += streams[i].preroll;
        bad[direction] += streams[i].bad_format;
        unmatched[direction] += streams[i].unmatched;
        early += streams[i].early;
        off_order += streams[i].off_order;
    }
    // Calls that got the right format both ways (and nothing else): transcoded calls.
    int calls_ok = 0;
    for (int i = 0; i + 1 < count; i += 2)
        if (streams[i].received && streams[i + 1].received && !streams[i].bad_format && !streams[i + 1].bad_format) calls_ok++;
    double p50[2] = {0, 0}, p99[2] = {0, 0};
    for (int d = 0; d < 2; d++) {
        uint64_t total = 0, seen = 0;
        for (int i = 0; i < HISTOGRAM_BUCKETS; i++) total += histogram[d][i];
        if (!total) continue;
        for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
            seen += histogram[d][i];
            if (!p50[d] && seen * 2 >= total) p50[d] = (i + 1) * BUCKET_NS / 1e3;
            if (!p99[d] && seen * 100 >= total * 99) { p99[d] = (i + 1) * BUCKET_NS / 1e3; break; }
        }
    }
    // Verification over the first --verify-calls calls: the worst of them is reported per direction.
    double worst_share[2] = {2, 2}, dominant_of_worst[2] = {0, 0};
    for (int i = 0; i < count && i < 2 * verify_calls; i++) {
        stream_t *s = &streams[i];
        int direction = s->side ^ 1;
        double dominant, share;
        analyse(s, tone_hz[direction], &dominant, &share);
        if (share < worst_share[direction]) { worst_share[direction] = share; dominant_of_worst[direction] = dominant; }
        if (pcm_dump && i < 2) {
            char path[512];
            snprintf(path, sizeof path, "%s.%s.s16", pcm_dump, s->side == 0 ? "caller" : "callee");
            FILE *out = fopen(path, "wb");
            if (out) { fwrite(s->pcm, sizeof(int16_t), s->pcm_len, out); fclose(out); }
        }
    }
    for (int d = 0; d < 2; d++) if (worst_share[d] > 1.5) worst_share[d] = 0;

    if (trace) {
        FILE *out = fopen(trace, "w");
        if (out) {
            fprintf(out, "# second_sent a2b_mean_us a2b_max_us b2a_mean_us b2a_max_us\n");
            for (int t = 0; t < trace_seconds; t++)
                fprintf(out, "%d %.0f %.0f %.0f %.0f\n", t,
                        trace_count[2 * t] ? trace_sum[2 * t] / trace_count[2 * t] / 1e3 : 0, trace_max[2 * t] / 1e3,
                        trace_count[2 * t + 1] ? trace_sum[2 * t + 1] / trace_count[2 * t + 1] / 1e3 : 0, trace_max[2 * t + 1] / 1e3);
            fclose(out);
        }
    }
    double window = (measure_end_ns - measure_start_ns) / 1e9;
    double ticks_per_second = (double)sysconf(_SC_CLK_TCK);
    double cpu_pct = (double)(cpu_end - cpu_start) / ticks_per_second / window * 100.0;
    int calls = count / 2;
    double loss[2];
    for (int d = 0; d < 2; d++) loss[d] = sent[d] ? 100.0 * (double)(sent[d] > received[d] ? sent[d] - received[d] : 0) / (double)sent[d] : 0;
    printf("label=%s calls=%d calls_ok=%d window_s=%.2f relay_cpu_pct=%.2f cpu_pct_per_call=%.4f channels_per_core=%.0f "
           "sent_a2b=%llu received_a2b=%llu loss_a2b_pct=%.3f sent_b2a=%llu received_b2a=%llu loss_b2a_pct=%.3f "
           "p50_a2b_us=%.0f p99_a2b_us=%.0f p50_b2a_us=%.0f p99_b2a_us=%.0f "
           "bad_format_a2b=%llu bad_format_b2a=%llu unmatched_a2b=%llu unmatched_b2a=%llu packets_a2b=%llu packets_b2a=%llu extra_a2b=%llu extra_b2a=%llu early=%llu ts_index_not_arrival_count=%llu off_grid=%llu duplicates=%llu preroll=%llu send_errors=%llu late_sends=%llu "
           "callee_hears_hz=%.0f callee_tone_share=%.3f caller_hears_hz=%.0f caller_tone_share=%.3f\n",
           label, calls, calls_ok, window, cpu_pct, cpu_pct / calls, cpu_pct > 0 ? 100.0 / (cpu_pct / calls) : 0,
           (unsigned long long)sent[0], (unsigned long long)received[0], loss[0],
           (unsigned long long)sent[1], (unsigned long long)received[1], loss[1],
           p50[0], p99[0], p50[1], p99[1],
           (unsigned long long)bad[0], (unsigned long long)bad[1], (unsigned long long)unmatched[0], (unsigned long long)unmatched[1],
           (unsigned long long)packets_in[0], (unsigned long long)packets_in[1], (unsigned long long)extra[0], (unsigned long long)extra[1],
           (unsigned long long)early, (unsigned long long)off_order, (unsigned long long)off_grid, (unsigned long long)duplicates, (unsigned long long)preroll, (unsigned long long)send_errors, (unsigned long long)late_sends,
           dominant_of_worst[0], worst_share[0], dominant_of_worst[1], worst_share[1]);
    return 0;
}
