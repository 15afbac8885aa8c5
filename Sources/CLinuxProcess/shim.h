// Linux process calls for BoardAgents' ProcessRunner that Swift cannot reach directly: syscall(2)
// and prctl(2) are variadic (and glibc before 2.36 has no pidfd_open wrapper).
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* Linux 5.3; the number on x86_64, aarch64 and most other architectures */
#endif

// A descriptor that becomes readable once the process `pid` (a child of ours, not yet reaped)
// has exited; close-on-exec. Returns -1 with errno set (ENOSYS before Linux 5.3, EPERM under
// some seccomp filters).
static inline int board_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, (long)pid, 0L);
}

// Names the calling thread (at most 15 bytes are kept), as `ps -L` and `top -H` show it.
static inline int board_name_this_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

// Re-exported for Swift: Glibc's module does not promise these headers.
#include <sys/epoll.h>
#include <sys/eventfd.h>
