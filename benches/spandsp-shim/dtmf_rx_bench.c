/* Benchmark shim: runs spandsp's dtmf_rx over a raw 16-bit little-endian 8 kHz file in
 * 160-sample frames and prints its throughput and the digits it found. Built and run by
 * benches/benches/dsp_dtmf.rs only when libspandsp-dev is installed; never linked into Rust.
 *
 * usage: dtmf_rx_bench FILE REPEATS
 * prints: samples_per_sec=<float> digits=<string>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <spandsp.h>

static char found[65536];
static size_t nfound;

static void on_digits(void *user, const char *digits, int len)
{
    (void) user;
    for (int i = 0; i < len && nfound + 1 < sizeof(found); i++)
        found[nfound++] = digits[i];
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s FILE REPEATS\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t n = (size_t) bytes / 2;
    int16_t *amp = malloc(n * sizeof(int16_t));
    if (!amp || fread(amp, 2, n, f) != n) {
        fprintf(stderr, "read failed\n");
        return 1;
    }
    fclose(f);
    int repeats = atoi(argv[2]);
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        nfound = 0;
        dtmf_rx_state_t *s = dtmf_rx_init(NULL, on_digits, NULL);
        double t0 = now_s();
        for (size_t i = 0; i + 160 <= n; i += 160)
            dtmf_rx(s, amp + i, 160);
        double t = now_s() - t0;
        dtmf_rx_free(s);
        if (t < best)
            best = t;
    }
    found[nfound] = 0;
    printf("samples_per_sec=%.6e digits=%s\n", (double) (n / 160 * 160) / best, found);
    free(amp);
    return 0;
}
