#ifndef CBERTH_SYSTEM_H
#define CBERTH_SYSTEM_H

// Thin wrappers around Linux calls that Swift cannot import directly
// (variadic `syscall`, structs newer than the C library's headers).

/// openat2(2) with RESOLVE_BENEATH: opens `path` relative to `dirfd` and refuses any
/// resolution (`..`, absolute symlinks, symlinks) that would leave the directory.
/// Returns the fd, or -1 with errno set (ENOSYS on kernels older than 5.6).
int cberth_open_beneath(int dirfd, const char *path, int flags, int no_symlinks);

/// O_PATH, which Glibc hides behind _GNU_SOURCE and so Swift does not see: an fd that names a
/// file or directory without opening it for I/O (for *at() calls and type checks).
extern const int cberth_o_path;

#endif
