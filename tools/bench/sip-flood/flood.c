// Untrusted SIP flood for tools/bench/sip-flood: OPTIONS and REGISTER alternately from one UDP
// socket at a fixed packet rate (sendmmsg batches every millisecond), for a number of seconds.
// Prints the packets actually sent and the achieved rate.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: flood TARGET_IP PORT PPS SECONDS\n"); return 64; }
    const char *target = argv[1];
    int port = atoi(argv[2]); long pps = atol(argv[3]); double seconds = atof(argv[4]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int big = 4 << 20; setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, target, &to.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", target); return 64; }
    char options[512], reg[512];
    int lo = snprintf(options, sizeof options,
        "OPTIONS sip:flood@%s SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.66:5099;branch=z9hG4bKflood\r\nFrom: <sip:f@203.0.113.66>;tag=1\r\n"
        "To: <sip:flood@%s>\r\nCall-ID: flood-o\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", target, target);
    int lr = snprintf(reg, sizeof reg,
        "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.66:5099;branch=z9hG4bKfloodr\r\nFrom: <sip:f@%s>;tag=2\r\n"
        "To: <sip:f@%s>\r\nCall-ID: flood-r\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", target, target, target);
    enum { BATCH = 256 };
    struct mmsghdr msgs[BATCH]; struct iovec iov[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = (i & 1) ? reg : options; iov[i].iov_len = (i & 1) ? lr : lo;
        msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &to; msgs[i].msg_hdr.msg_namelen = sizeof to;
    }
    double start = now(), end = start + seconds; long sent = 0;
    while (now() < end) {
        long due = (long)((now() - start) * pps);
        while (sent < due) {
            int n = due - sent > BATCH ? BATCH : (int)(due - sent);
            int r = sendmmsg(fd, msgs, n, 0);
            if (r <= 0) break;
            sent += r;
        }
        usleep(1000);
    }
    double took = now() - start;
    printf("sent %ld packets in %.2f s: %.0f pps\n", sent, took, sent / took);
    return 0;
}
