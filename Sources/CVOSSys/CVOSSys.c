#define _GNU_SOURCE
#include <sys/socket.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "CVOSSys.h"

_Static_assert(sizeof(vos_mmsghdr) == sizeof(struct mmsghdr), "vos_mmsghdr must match struct mmsghdr");

int vos_recvmmsg(int fd, vos_mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout) {
    return recvmmsg(fd, (struct mmsghdr *)vec, vlen, flags, timeout);
}

int vos_sendmmsg(int fd, vos_mmsghdr *vec, unsigned int vlen, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)vec, vlen, flags);
}

int vos_gettid(void) {
    return gettid();
}

void vos_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}
