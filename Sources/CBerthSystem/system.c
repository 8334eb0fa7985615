#define _GNU_SOURCE
#include "CBerthSystem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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
