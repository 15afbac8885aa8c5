/*
 * LD_PRELOAD shim for the power-loss test (tests/powerloss/run.py).
 *
 * A power cut loses every write the kernel had not yet been told to make durable. This shim
 * keeps, for each database file under $BOARD_POWERLOSS_DIR (`*.db` and `*.db-wal`), an undo
 * log of the writes made since that file's last fsync/fdatasync: before each write or truncate
 * it appends the bytes and the file size it is about to replace to `<file>.undo`, and a
 * successful fsync/fdatasync of the file empties its log. After a SIGKILL the test applies the
 * logs backwards: the files are then exactly as a power cut at that moment could leave them in
 * the worst case (nothing unsynced reached the disk). Whatever the daemon acknowledged must
 * still be there.
 *
 * A record is written whole before the write it describes; a record cut short by the kill is
 * ignored by the reader (its write never happened). The log of a write that the kill prevented
 * restores bytes that are still there, which is harmless.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096
#define MAX_FILES 16
#define RECORD_MAGIC 0x6f646e7544524f42ULL /* "BORDUndo" */

static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_close)(int);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char directory[PATH_MAX];
static size_t directory_length;

/* Per descriptor: 0 not looked at yet, -1 not a tracked file, else 1 + index into files. */
static int fd_file[MAX_FD]; /* written under the lock; write() peeks without it */
static struct {
    char path[PATH_MAX];
    int undo;
} files[MAX_FILES];
static int file_count;

__attribute__((constructor)) static void init(void) {
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_write = dlsym(RTLD_NEXT, "write");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_close = dlsym(RTLD_NEXT, "close");
    const char *dir = getenv("BOARD_POWERLOSS_DIR");
    if (dir && realpath(dir, directory)) {
        directory_length = strlen(directory);
    }
}

static int ends_with(const char *text, const char *suffix) {
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcmp(text + a - b, suffix) == 0;
}

/* The index of the tracked file behind fd, or -1. Called with the lock held. */
static int tracked(int fd) {
    if (fd < 0 || fd >= MAX_FD || directory_length == 0) return -1;
    if (fd_file[fd] > 0) return fd_file[fd] - 1;
    if (fd_file[fd] < 0) return -1;
    fd_file[fd] = -1; /* until proven otherwise */
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return -1;
    path[n] = 0;
    if (strncmp(path, directory, directory_length) != 0 || path[directory_length] != '/'
        || !(ends_with(path, ".db") || ends_with(path, ".db-wal"))) {
        return -1;
    }
    for (int i = 0; i < file_count; i++) {
        if (strcmp(files[i].path, path) == 0) { fd_file[fd] = i + 1; return i; }
    }
    if (file_count == MAX_FILES) return -1;
    char undo_path[PATH_MAX + 8];
    snprintf(undo_path, sizeof undo_path, "%s.undo", path);
    int undo = open(undo_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (undo < 0) return -1;
    strcpy(files[file_count].path, path);
    files[file_count].undo = undo;
    fd_file[fd] = ++file_count;
    return file_count - 1;
}

static void write_all(int fd, const void *data, size_t length) {
    const char *p = data;
    while (length > 0) {
        ssize_t n = real_write(fd, p, length);
        if (n < 0) { if (errno == EINTR) continue; abort(); /* the test must not go on blind */ }
        p += n;
        length -= (size_t)n;
    }
}

/* Records what [offset, offset + length) and the file's size were before a change. */
static void remember(int file, int fd, uint64_t offset, uint64_t length) {
    struct stat st;
    if (fstat(fd, &st) != 0) abort();
    uint64_t header[4] = {RECORD_MAGIC, offset, length, (uint64_t)st.st_size};
    char *old = calloc(1, length ? length : 1);
    if (!old) abort();
    size_t got = 0;
    while (got < length) {
        ssize_t n = pread(fd, old + got, length - got, (off_t)(offset + got));
        if (n < 0) { if (errno == EINTR) continue; abort(); }
        if (n == 0) break; /* past the end: the rest stays zero, the size restores it */
        got += (size_t)n;
    }
    char *record = malloc(sizeof header + length);
    if (!record) abort();
    memcpy(record, header, sizeof header);
    memcpy(record + sizeof header, old, length);
    write_all(files[file].undo, record, sizeof header + length);
    free(record);
    free(old);
}

static void before_write(int fd, size_t length, off64_t offset) {
    pthread_mutex_lock(&lock);
    int file = tracked(fd);
    if (file >= 0) remember(file, fd, (uint64_t)offset, length);
    pthread_mutex_unlock(&lock);
}

ssize_t pwrite(int fd, const void *buffer, size_t length, off_t offset) {
    before_write(fd, length, offset);
    return real_pwrite(fd, buffer, length, offset);
}

ssize_t pwrite64(int fd, const void *buffer, size_t length, off64_t offset) {
    before_write(fd, length, offset);
    return real_pwrite64(fd, buffer, length, offset);
}

ssize_t write(int fd, const void *buffer, size_t length) {
    if (fd >= 0 && fd < MAX_FD && __atomic_load_n(&fd_file[fd], __ATOMIC_RELAXED) != -1 && directory_length) {
        off_t offset = lseek(fd, 0, SEEK_CUR);
        if (offset >= 0) before_write(fd, length, offset);
    }
    return real_write(fd, buffer, length);
}

static void before_truncate(int fd, off64_t size) {
    pthread_mutex_lock(&lock);
    int file = tracked(fd);
    if (file >= 0) {
        struct stat st;
        if (fstat(fd, &st) != 0) abort();
        uint64_t lost = st.st_size > size ? (uint64_t)(st.st_size - size) : 0;
        remember(file, fd, (uint64_t)size, lost);
    }
    pthread_mutex_unlock(&lock);
}

int ftruncate(int fd, off_t size) {
    before_truncate(fd, size);
    return real_ftruncate(fd, size);
}

int ftruncate64(int fd, off64_t size) {
    before_truncate(fd, size);
    return real_ftruncate64(fd, size);
}

/* Durable now: nothing before this point can be lost any more. */
static void synced(int fd) {
    pthread_mutex_lock(&lock);
    int file = tracked(fd);
    if (file >= 0 && real_ftruncate(files[file].undo, 0) != 0) abort();
    pthread_mutex_unlock(&lock);
}

int fsync(int fd) {
    int result = real_fsync(fd);
    if (result == 0) synced(fd);
    return result;
}

int fdatasync(int fd) {
    int result = real_fdatasync(fd);
    if (result == 0) synced(fd);
    return result;
}

int close(int fd) {
    if (fd >= 0 && fd < MAX_FD) {
        pthread_mutex_lock(&lock);
        fd_file[fd] = 0; /* the number may come back for another file */
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}
