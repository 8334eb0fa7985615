#define _GNU_SOURCE
#include "CBerthSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <pthread.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct cberth_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

#define CBERTH_RESOLVE_NO_MAGICLINKS 0x02
#define CBERTH_RESOLVE_NO_SYMLINKS 0x04
#define CBERTH_RESOLVE_BENEATH 0x08

const int cberth_o_path = O_PATH;

int cberth_open_beneath(int dirfd, const char *path, int flags, int no_symlinks) {
    struct cberth_open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (uint64_t)(unsigned)flags;
    how.resolve = CBERTH_RESOLVE_BENEATH | CBERTH_RESOLVE_NO_MAGICLINKS;
    if (no_symlinks) {
        how.resolve |= CBERTH_RESOLVE_NO_SYMLINKS;
    }
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int cberth_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int cberth_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
#else
    (void)actions;
    (void)lowest;
    return ENOSYS;
#endif
}

int cberth_spawnattr_reset_signals(posix_spawnattr_t *attributes, int own_process_group) {
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(attributes, &none);
    posix_spawnattr_setsigdefault(attributes, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (own_process_group) {
        posix_spawnattr_setpgroup(attributes, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    return posix_spawnattr_setflags(attributes, flags);
}

void cberth_name_this_thread(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = 0;
    pthread_setname_np(pthread_self(), truncated);
}
