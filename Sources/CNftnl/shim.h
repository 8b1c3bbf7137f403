// Order matters: netinet and sys/socket before any <linux/*.h>. Do not include
// <linux/netfilter/nfnetlink.h> here: it clashes with libnfnetlink's copy (see shared notes).
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdint.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_string.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/expr.h>
#include <libnftnl/common.h>
#include <libnftnl/batch.h>
#include <libnftnl/udata.h>
