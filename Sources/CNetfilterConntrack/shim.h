#include <netinet/in.h>
#include <sys/socket.h>
#include <stdint.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
