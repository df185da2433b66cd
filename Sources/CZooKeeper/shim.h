// The multi-threaded C client: THREADED must be defined before the header, or the
// synchronous API and the adaptor's threads are left out.
#define THREADED 1
#include <zookeeper/zookeeper.h>

// The world-writable ACL, as a function: Swift sees the C global as shared mutable state.
static inline struct ACL_vector *czk_open_acl(void) { return &ZOO_OPEN_ACL_UNSAFE; }
