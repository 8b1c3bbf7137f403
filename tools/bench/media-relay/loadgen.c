// Media relay load generator: N calls, each with a caller and a callee UDP socket on 127.0.0.1,
// sending 172-byte RTP through a relay in both directions (symmetric: each stream sends from the
// socket it receives on). One thread, epoll + recvmmsg, so it costs little next to the relay.
//
// Usage: loadgen --map FILE --pps-per-stream 50 --duration S --warmup S [--pid RELAY_PID] [--label NAME]
//               [--caller-ip A --callee-ip B --relay-ip-caller RA --relay-ip-callee RB]  (default 127.0.0.1 each;
//               the kernel offload case runs callers and callees on two links through a relay namespace)
//   map lines: "caller_port callee_port relay_port_for_caller relay_port_for_callee"
//   --pps-per-stream 0 = flood: every stream sends back to back, as fast as one thread can.
//   --capture-port P: read replies through one socket bound to 0.0.0.0:P (IP_TRANSPARENT) that the
//   caller's nftables TPROXY rule steers every stream's port to, instead of epoll over thousands
//   of sockets (streams still send from, and are addressed at, their own sockets). At 100k packets/s
//   per generator an epoll wakeup and a recvmmsg per packet measure the generator, not the relay.
// Prints one line of key=value results on stdout.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET_SIZE 172
#define BATCH 32
#define HISTOGRAM_BUCKETS 200000 /* 5 us each: 0..1 s */
#define BUCKET_NS 5000

typedef struct {
    int fd;
    struct sockaddr_in target;
    uint16_t seq;
    uint32_t ts;
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

static int open_socket(in_addr_t address, int port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { perror("socket"); exit(2); }
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = address;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { fprintf(stderr, "bind %d: %s\n", port, strerror(errno)); exit(2); }
    return fd;
}

int main(int argc, char **argv) {
    const char *map = NULL, *label = "relay";
    double pps = 50, duration = 10, warmup = 2;
    int pid = 0, capture_port = 0;
    in_addr_t local_ip[2] = {htonl(INADDR_LOOPBACK), htonl(INADDR_LOOPBACK)};
    in_addr_t relay_ip[2] = {htonl(INADDR_LOOPBACK), htonl(INADDR_LOOPBACK)};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--map")) map = argv[i + 1];
        else if (!strcmp(argv[i], "--pps-per-stream")) pps = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration")) duration = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--pid")) pid = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--label")) label = argv[i + 1];
        else if (!strcmp(argv[i], "--capture-port")) capture_port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--caller-ip")) local_ip[0] = inet_addr(argv[i + 1]);
        else if (!strcmp(argv[i], "--callee-ip")) local_ip[1] = inet_addr(argv[i + 1]);
        else if (!strcmp(argv[i], "--relay-ip-caller")) relay_ip[0] = inet_addr(argv[i + 1]);
        else if (!strcmp(argv[i], "--relay-ip-callee")) relay_ip[1] = inet_addr(argv[i + 1]);
    }
    if (!map) { fprintf(stderr, "loadgen: --map FILE is required\n"); return 64; }
    FILE *f = fopen(map, "r");
    if (!f) { perror(map); return 2; }
    int capacity = 4096, count = 0;
    stream_t *streams = calloc(capacity, sizeof *streams);
    int caller, callee, relay_a, relay_b;
    while (count + 2 <= capacity && fscanf(f, "%d %d %d %d", &caller, &callee, &relay_a, &relay_b) == 4) {
        int ports[2] = {caller, callee}, relays[2] = {relay_a, relay_b};
        for (int k = 0; k < 2; k++) {
            stream_t *s = &streams[count++];
            s->fd = open_socket(local_ip[k], ports[k]);
            s->target.sin_family = AF_INET;
            s->target.sin_port = htons(relays[k]);
            s->target.sin_addr.s_addr = relay_ip[k];
            s->seq = (uint16_t)rand();
            s->ts = (uint32_t)rand();
        }
    }
    fclose(f);
    if (count == 0) { fprintf(stderr, "loadgen: no calls in %s\n", map); return 2; }

    int ep = epoll_create1(0);
    int capture_fd = -1;
    if (capture_port > 0) {
        capture_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        int one = 1, size = 16 << 20;
        if (capture_fd < 0 || setsockopt(capture_fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0) {
            perror("capture socket (IP_TRANSPARENT needs CAP_NET_ADMIN)");
            return 2;
        }
        if (setsockopt(capture_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
            setsockopt(capture_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(capture_port)};
        if (bind(capture_fd, (struct sockaddr *)&a, sizeof a) != 0) { fprintf(stderr, "bind capture %d: %s\n", capture_port, strerror(errno)); return 2; }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
        epoll_ctl(ep, EPOLL_CTL_ADD, capture_fd, &ev);
    } else {
        for (int i = 0; i < count; i++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].fd, &ev);
        }
    }
    uint64_t *histogram = calloc(HISTOGRAM_BUCKETS, sizeof(uint64_t));
    unsigned char packet[PACKET_SIZE] = {0x80, 8};
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

    const int flood = pps <= 0;
    // Streams take turns at evenly spaced instants: one send every period/count.
    const uint64_t spacing = flood ? 0 : (uint64_t)(1e9 / pps / count);
    const uint64_t start = now_ns();
    const uint64_t measure_from = start + (uint64_t)(warmup * 1e9);
    const uint64_t stop_sending = measure_from + (uint64_t)(duration * 1e9);
    // After the last send, read until nothing came for 300 ms (at most 5 s): a generator that fell
    // behind under load still has relayed packets queued, and they are not lost.
    const uint64_t drain_quiet = 300000000ull, drain_limit = stop_sending + 5000000000ull;
    uint64_t last_received_ns = 0;
    uint64_t tick = 0, sent = 0, received = 0, sent_measured = 0, received_measured = 0, send_errors = 0;
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
        if (now >= stop_sending && (now >= drain_limit || now - (last_received_ns > stop_sending ? last_received_ns : stop_sending) >= drain_quiet)) break;
        if (now < stop_sending) {
            // Bounded in paced mode too: a generator that falls behind its schedule must still
            // read between bursts, or its replies overflow the socket buffer and count as loss.
            int budget = flood ? count : 512;
            while (budget-- > 0 && (flood || start + tick * spacing <= now)) {
                stream_t *s = &streams[tick % count];
                tick++;
                s->seq++;
                s->ts += 160;
                packet[2] = s->seq >> 8; packet[3] = s->seq & 0xff;
                uint32_t ts = htonl(s->ts);
                memcpy(packet + 4, &ts, 4);
                uint32_t ssrc = htonl((uint32_t)(s - streams));
                memcpy(packet + 8, &ssrc, 4);
                uint64_t stamp = now_ns();
                memcpy(packet + 12, &stamp, 8);
                if (sendto(s->fd, packet, PACKET_SIZE, 0, (struct sockaddr *)&s->target, sizeof s->target) == PACKET_SIZE) {
                    sent++;
                    if (measuring) sent_measured++;
                } else {
                    send_errors++;
                }
            }
        }
        // Paced mode sends what fell due in 1 ms ticks, so the generator sleeps between ticks
        // instead of spinning a core the relays need.
        int timeout_ms = flood ? 0 : 1;
        int ready = epoll_wait(ep, events, 256, timeout_ms);
        for (int e = 0; e < ready; e++) {
            int captured = events[e].data.u32 == UINT32_MAX;
            int fd = captured ? capture_fd : streams[events[e].data.u32].fd;
            // The capture socket holds every stream's replies: read it in several batches per wakeup.
            for (int round = 0; round < (captured ? 64 : 1); round++) {
                int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
                uint64_t arrived = now_ns();
                if (n > 0) last_received_ns = arrived;
                for (int m = 0; m < n; m++) {
                    if (msgs[m].msg_len < 20) continue;
                    uint64_t stamp;
                    memcpy(&stamp, rx[m] + 12, 8);
                    uint64_t bucket = (arrived - stamp) / BUCKET_NS;
                    histogram[bucket < HISTOGRAM_BUCKETS ? bucket : HISTOGRAM_BUCKETS - 1]++;
                    received++;
                    if (measuring) received_measured++;
                }
                if (n < BATCH) break;
            }
        }
    }
    if (measure_end_ns == 0) { measure_end_ns = now_ns(); cpu_end = cpu_ticks(pid); }
    uint64_t total = 0, p50 = 0, p99 = 0, seen = 0;
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++) total += histogram[i];
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += histogram[i];
        if (!p50 && seen * 2 >= total) p50 = (uint64_t)(i + 1) * BUCKET_NS;
        if (!p99 && seen * 100 >= total * 99) { p99 = (uint64_t)(i + 1) * BUCKET_NS; break; }
    }
    double window = (measure_end_ns - measure_start_ns) / 1e9;
    double ticks_per_second = (double)sysconf(_SC_CLK_TCK);
    double cpu_us = (double)(cpu_end - cpu_start) / ticks_per_second * 1e6;
    double loss = sent ? 100.0 * (double)(sent > received ? sent - received : 0) / (double)sent : 0;
    printf("label=%s streams=%d sent=%llu received=%llu loss_pct=%.3f send_errors=%llu window_s=%.2f relayed_pps=%.0f "
           "cpu_us_per_packet=%.3f relay_cpu_pct=%.2f p50_us=%.0f p99_us=%.0f\n",
           label, count, (unsigned long long)sent, (unsigned long long)received, loss, (unsigned long long)send_errors, window,
           received_measured / window, received_measured ? cpu_us / (double)received_measured : 0, cpu_us / window / 1e4,
           p50 / 1e3, p99 / 1e3);
    return 0;
}
