/* regfile.h - open an administrator-named file for reading: never block, never follow a link.
 *
 * A path the daemon reads at load time (a password file, the vault key, a header_checks
 * file, the configuration) could name a FIFO or a device: a plain open() of a FIFO waits
 * for a writer forever, and the load with it. sh_regfile_open() opens with
 * O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC, so neither a FIFO nor a link can stall or
 * redirect it, and accepts only a regular file (fstat on the descriptor, not the path).
 * SH_REGFILE_FOLLOW drops O_NOFOLLOW, for files that are not secret and that admins
 * commonly link (the configuration, header_checks tables): the target must still be a
 * regular file. Secrets and keys are never opened through a link.
 */
#ifndef SH_REGFILE_H
#define SH_REGFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* A read-only descriptor on the regular file PATH (its fstat in *ST when ST is not NULL),
 * or -1 with a message naming PATH in ERR: "PATH: is a symbolic link", "PATH: is a FIFO,
 * not a regular file", "PATH: No such file or directory". Reads on a regular file never
 * block, so the O_NONBLOCK flag the descriptor keeps changes nothing for the caller. */
#define SH_REGFILE_FOLLOW 1
int sh_regfile_open(const char *path, int flags, struct stat *st, char *err, size_t errlen);

/* The whole of the regular file PATH, opened as sh_regfile_open() does, in a
 * malloc'd buffer with a NUL after its *LEN bytes; NULL with a message naming PATH
 * in ERR when it cannot be opened or read, is larger than MAX bytes (even when it
 * grows while being read), or memory runs out. */
char *sh_regfile_read(const char *path, int flags, size_t max, size_t *len, char *err,
                      size_t errlen);

#endif
