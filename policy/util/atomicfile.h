/* atomicfile.h - replace a file whole: temp file, fsync, rename, fsync the directory.
 *
 * A reader (a daemon reloading) sees the old file or the new one, never a part of
 * either, and a crash leaves at most a stale PATH.tmp. The new file keeps the
 * owner, group and mode of the file it replaces, so a daemon that reads it
 * through its group after dropping root can still read it. */
#ifndef SH_ATOMICFILE_H
#define SH_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SH_ATOMIC_ERR_MAX 512

/* Write DATA to TMP, created new (a leftover TMP is removed first; links are never
 * followed) and fsynced, but not renamed. Its owner, group and mode are those of
 * LIKE when LIKE exists, else the caller's with MODE. false with the reason in
 * ERR (SH_ATOMIC_ERR_MAX bytes), TMP removed. */
bool sh_file_write_temp(const char *tmp, const char *data, size_t len, const char *like,
                        mode_t mode, char *err);

/* rename(FROM, TO), then fsync TO's directory. false with the reason in ERR. */
bool sh_file_rename(const char *from, const char *to, char *err);

/* Replace PATH with DATA through PATH.tmp, keeping PATH's owner, group and mode
 * (MODE for a new file). On any error PATH is unchanged. */
bool sh_file_replace(const char *path, const char *data, size_t len, mode_t mode, char *err);

/* fsync the directory holding PATH (a rename or unlink in it is then durable). */
bool sh_fsync_dir(const char *path);

#endif
