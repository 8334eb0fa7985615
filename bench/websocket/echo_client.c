/*
 * WebSocket echo load in C: CONNS connections on one epoll loop, each keeping WINDOW text
 * messages of SIZE bytes in flight and sending the next one as each echo arrives. Every reply
 * is checked to be one unmasked text frame of SIZE bytes.
 *
 * The Python client (echo_client.py) is kept for machines without a C compiler; on a small
 * machine it is the limit of the benchmark (about 60k messages/s on one core), so a server
 * that needs less CPU per message than another showed the same rate. This one spends a few
 * hundred nanoseconds per message, and the server's cost decides.
 *
 * Prints "messages_per_second errors messages" like echo_client.py: the rate over DURATION
 * after WARMUP seconds, the connections that failed, and every echo of the whole run.
 *
 * usage: echo_client HOST PORT PATH [CONNS=100] [SIZE=64] [DURATION=5] [WINDOW=4] [WARMUP=1]
 * build: cc -O2 -o echo_client echo_client.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    int upgraded;
    int failed;
    size_t have;           /* bytes of a reply (or of the handshake's answer) read so far */
    unsigned char in[4096];
};

static size_t reply_length, request_length;
static unsigned char reply_head[4];
static size_t reply_head_length;
/* WINDOW frames back to back: the most one read's replies can ask for is sent in one write. */
static unsigned char *frames;
static long long echoes;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(struct conn *c, const char *why) {
    if (!c->failed) fprintf(stderr, "connection failed: %s\n", why);
    c->failed = 1;
    close(c->fd);
}

/* Sends `count` frames (at most `most`, see main) in one write; a client that cannot send what
 * it must (a full socket buffer, which a window of a few messages never fills) counts as failed
 * rather than silently sending less. */
static void send_frames(struct conn *c, size_t count) {
    size_t bytes = count * request_length;
    ssize_t sent = write(c->fd, frames, bytes);
    if (sent != (ssize_t)bytes) fail(c, sent < 0 ? strerror(errno) : "short write");
}

static void handshake_read(struct conn *c, size_t window) {
    ssize_t n = read(c->fd, c->in + c->have, sizeof c->in - 1 - c->have);
    if (n <= 0) { if (n < 0 && errno == EAGAIN) return; fail(c, "closed during the handshake"); return; }
    c->have += (size_t)n;
    c->in[c->have] = 0;
    char *end = strstr((char *)c->in, "\r\n\r\n");
    if (!end) return;
    if (strncmp((char *)c->in, "HTTP/1.1 101 ", 13) != 0) { fail(c, "no upgrade"); return; }
    size_t rest = c->have - (size_t)(end + 4 - (char *)c->in);
    if (rest > 0) { fail(c, "frame before the first message"); return; }
    c->have = 0;
    c->upgraded = 1;
    send_frames(c, window);
}

static void echo_read(struct conn *c) {
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->have, sizeof c->in - c->have);
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) { fail(c, "closed"); return; }
        size_t total = c->have + (size_t)n, done = 0, replies = 0;
        while (total - done >= reply_length) {
            if (memcmp(c->in + done, reply_head, reply_head_length) != 0) { fail(c, "unexpected frame"); return; }
            done += reply_length;
            replies++;
        }
        memmove(c->in, c->in + done, total - done);
        c->have = total - done;
        echoes += (long long)replies;
        if (replies) send_frames(c, replies);
        if (c->failed) return;
    }
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s HOST PORT PATH [CONNS] [SIZE] [DURATION] [WINDOW] [WARMUP]\n", argv[0]); return 2; }
    const char *host = argv[1], *path = argv[3];
    int port = atoi(argv[2]);
    size_t conns = argc > 4 ? (size_t)atoi(argv[4]) : 100, size = argc > 5 ? (size_t)atoi(argv[5]) : 64;
    double duration = argc > 6 ? atof(argv[6]) : 5, warmup = argc > 8 ? atof(argv[8]) : 1;
    size_t window = argc > 7 ? (size_t)atoi(argv[7]) : 4;
    if (size >= 65536 || window == 0 || conns == 0) { fprintf(stderr, "SIZE below 65536, WINDOW and CONNS above 0\n"); return 2; }

    /* One masked text frame, and the unmasked reply's head. */
    unsigned char head[8], mask[4];
    size_t head_length;
    if (size < 126) { head[0] = 0x81; head[1] = 0x80 | (unsigned char)size; head_length = 2; }
    else { head[0] = 0x81; head[1] = 0x80 | 126; head[2] = (unsigned char)(size >> 8); head[3] = (unsigned char)size; head_length = 4; }
    reply_head[0] = 0x81;
    if (size < 126) { reply_head[1] = (unsigned char)size; reply_head_length = 2; }
    else { reply_head[1] = 126; reply_head[2] = (unsigned char)(size >> 8); reply_head[3] = (unsigned char)size; reply_head_length = 4; }
    reply_length = reply_head_length + size;
    srand((unsigned)time(NULL));
    for (int i = 0; i < 4; i++) mask[i] = (unsigned char)rand();
    request_length = head_length + 4 + size;
    /* A read of 4096 bytes holds at most this many replies; one write sends as many frames. */
    size_t most = sizeof(((struct conn *)0)->in) / reply_length + window;
    frames = malloc(most * request_length);
    for (size_t f = 0; f < most; f++) {
        unsigned char *p = frames + f * request_length;
        memcpy(p, head, head_length);
        memcpy(p + head_length, mask, 4);
        for (size_t i = 0; i < size; i++) p[head_length + 4 + i] = (unsigned char)('m' ^ mask[i % 4]);
    }

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) { fprintf(stderr, "HOST must be an IPv4 address\n"); return 2; }
    int poll = epoll_create1(0);
    struct conn *all = calloc(conns, sizeof *all);
    char request[512];
    int request_bytes = snprintf(request, sizeof request,
        "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path);
    for (size_t i = 0; i < conns; i++) {
        struct conn *c = &all[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, (struct sockaddr *)&address, sizeof address) != 0) { fail(c, strerror(errno)); continue; }
        if (write(c->fd, request, (size_t)request_bytes) != request_bytes) { fail(c, "handshake not sent"); continue; }
        fcntl(c->fd, F_SETFL, O_NONBLOCK);
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(poll, EPOLL_CTL_ADD, c->fd, &event);
    }

    double start = now(), measured_from = start + warmup, end = measured_from + duration;
    long long before = -1, after = 0;
    struct epoll_event events[256];
    for (;;) {
        double t = now();
        if (before < 0 && t >= measured_from) { before = echoes; measured_from = t; }
        if (t >= end) { after = echoes; end = t; break; }
        int ready = epoll_wait(poll, events, 256, 50);
        for (int e = 0; e < ready; e++) {
            struct conn *c = events[e].data.ptr;
            if (c->failed) continue;
            if (c->upgraded) echo_read(c); else handshake_read(c, window);
        }
    }
    size_t errors = 0;
    for (size_t i = 0; i < conns; i++) errors += (size_t)all[i].failed;
    printf("%.0f %zu %lld\n", (double)(after - before) / (end - measured_from), errors, echoes);
    return 0;
}
