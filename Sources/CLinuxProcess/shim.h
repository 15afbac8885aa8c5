// Linux process calls for BoardAgents' ProcessRunner that Swift cannot reach directly: syscall(2)
// is variadic (and glibc before 2.36 has no pidfd_open wrapper).
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* the same number on every architecture (Linux 5.3) */
#endif

// A descriptor that becomes readable once the process `pid` (a child of ours, not yet reaped)
// has exited; close-on-exec. Returns -1 with errno set (ENOSYS before Linux 5.3).
static inline int board_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

// Re-exported for Swift: Glibc's module does not promise these headers.
#include <sys/epoll.h>
#include <sys/eventfd.h>
