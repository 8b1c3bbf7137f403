// bcg729 alone: the library's own cost for the transcoding the benchmark asks of a relay, with no
// sockets, RTP, G.711 or scheduling around it. Each call has its own encoder and decoder context
// (as in a relay), and every 20 ms packet of every call encodes two 10 ms frames of a 1000 Hz tone
// (what the PCMA caller sends) and decodes two frames of a 600 Hz tone's G.729 (what the callee
// sends), call after call, packet time after packet time, as fast as the CPU goes.
// Prints one key=value line: cpu_pct_per_call is the CPU (process time, % of one core) that one call
// of 50 packets/s each way costs in bcg729 alone. A relay transcoding with bcg729 cannot cost less.
//
// Usage: floor --calls N --seconds S
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { FRAME = 80, FRAMES = 500 }; // 10 ms frames; 5 s of audio, looped

static void tone(int16_t *out, int n, double hz) {
    for (int i = 0; i < n; i++) out[i] = (int16_t)lrint(8000.0 * sin(2 * M_PI * hz * i / 8000.0));
}

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int calls = 100, seconds = 15;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--calls")) calls = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown argument %s\n", argv[i]); return 2; }
    }
    if (calls < 1 || seconds < 1) { fprintf(stderr, "--calls and --seconds must be at least 1\n"); return 2; }

    static int16_t caller[FRAMES * FRAME], callee[FRAMES * FRAME];
    static uint8_t callee_g729[FRAMES][10];
    tone(caller, FRAMES * FRAME, 1000);
    tone(callee, FRAMES * FRAME, 600);
    bcg729EncoderChannelContextStruct *source = initBcg729EncoderChannel(0);
    for (int f = 0; f < FRAMES; f++) {
        uint8_t length = 0;
        bcg729Encoder(source, callee + f * FRAME, callee_g729[f], &length);
        if (length != 10) { fprintf(stderr, "bcg729 gave a %d-byte frame\n", length); return 2; }
    }
    closeBcg729EncoderChannel(source);

    bcg729EncoderChannelContextStruct **encoders = calloc(calls, sizeof *encoders);
    bcg729DecoderChannelContextStruct **decoders = calloc(calls, sizeof *decoders);
    if (!encoders || !decoders) { fprintf(stderr, "out of memory\n"); return 2; }
    for (int c = 0; c < calls; c++) {
        encoders[c] = initBcg729EncoderChannel(0);
        decoders[c] = initBcg729DecoderChannel();
    }

    uint8_t out[10];
    int16_t pcm[FRAME];
    uint64_t checksum = 0; // keeps the work observable
    const int packets = seconds * 50;
    double start = cpu_seconds();
    for (int p = 0; p < packets; p++) {
        for (int c = 0; c < calls; c++) {
            for (int half = 0; half < 2; half++) {
                int f = (2 * p + half + c) % FRAMES;
                uint8_t length = 0;
                bcg729Encoder(encoders[c], caller + f * FRAME, out, &length);
                bcg729Decoder(decoders[c], callee_g729[f], 10, 0, 0, 0, pcm);
                checksum += out[0] + (uint16_t)pcm[40];
            }
        }
    }
    double used = cpu_seconds() - start;
    printf("calls=%d audio_seconds=%d cpu_seconds=%.3f cpu_pct_per_call=%.3f checksum=%llu\n", calls, seconds, used,
           100.0 * used / seconds / calls, (unsigned long long)checksum);
    for (int c = 0; c < calls; c++) {
        closeBcg729EncoderChannel(encoders[c]);
        closeBcg729DecoderChannel(decoders[c]);
    }
    free(encoders);
    free(decoders);
    return 0;
}
