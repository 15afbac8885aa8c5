// libsystemd's daemon and journal APIs for boardd. The variadic functions (sd_notifyf,
// sd_journal_send) do not import into Swift; boardd formats in Swift and calls sd_notify and
// sd_journal_sendv instead.
#include <sys/types.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
// malloc_trim, which Swift's Glibc module does not declare (IdleMemory.swift).
#include <malloc.h>

// The layout of `struct ucred` (SO_PEERCRED), which glibc declares only under _GNU_SOURCE and
// which therefore does not reach Swift through Glibc.
struct board_peer_credentials {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};
