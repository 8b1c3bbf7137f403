#define _GNU_SOURCE
#include <sys/socket.h>
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
