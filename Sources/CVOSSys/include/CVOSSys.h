#ifndef CVOSSYS_H
#define CVOSSYS_H
// Thin shims over Linux calls that Glibc hides from Swift (they need _GNU_SOURCE).
// No logic lives here: each function forwards to the system call of the same name.
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>
// epoll and eventfd drive the media I/O threads; Swift's Glibc module does not export them.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

/// Byte-for-byte the kernel's `struct mmsghdr`, visible to Swift.
typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} vos_mmsghdr;

int vos_recvmmsg(int fd, vos_mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout);
int vos_sendmmsg(int fd, vos_mmsghdr *vec, unsigned int vlen, int flags);
/// The calling thread's kernel id (what setpriority and /proc/PID/task name a thread by).
int vos_gettid(void);
/// Names the calling thread for the kernel (/proc/PID/task/TID/comm, `top -H`, perf): at most 15
/// bytes are kept. Foundation's `Thread.name` does not reliably reach the kernel: set before
/// start() it is dropped, and set from inside it races with the creating thread.
void vos_set_thread_name(const char *name);

#endif
