/* Linux headers that Swift's Glibc module does not include. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <poll.h>
