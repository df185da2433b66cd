/* Linux headers that Swift's Glibc module does not include. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <poll.h>
#include <sys/prctl.h>

/* prctl is variadic, which Swift cannot call. Names the calling thread (15 bytes at most). */
static inline void swift_arrow_flight_name_thread(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
