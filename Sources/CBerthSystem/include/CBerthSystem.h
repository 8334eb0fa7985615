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

#include <spawn.h>

/// pipe2(2) with O_CLOEXEC: neither end leaks into a child another thread spawns meanwhile.
int cberth_pipe_cloexec(int fds[2]);

/// Closes every descriptor from `lowest` up in a spawned child
/// (posix_spawn_file_actions_addclosefrom_np, glibc 2.34+). Returns ENOSYS where the C library
/// lacks it; then only descriptors opened without close-on-exec reach the child.
int cberth_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/// A spawned child starts with every signal at its default and none blocked (the parent may
/// ignore or block some); with `own_process_group`, in a process group of its own.
int cberth_spawnattr_reset_signals(posix_spawnattr_t *attributes, int own_process_group);

/// Names the calling thread (at most 15 bytes show) for `top -H` and crash reports;
/// pthread_setname_np hides behind _GNU_SOURCE.
void cberth_name_this_thread(const char *name);

#endif
