// Order matters: netinet and sys/socket before any <linux/*.h> (see shared notes).
#include <netinet/in.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>

// MNL_SOCKET_BUFFER_SIZE calls sysconf(), so it does not import as a constant.
static inline size_t vos_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
