/* config_read.h - read a libconfig file and its @includes without libconfig opening a file.
 *
 * libconfig 1.5 (Debian 12) opens an @include itself with a blocking fopen(): a FIFO
 * there hangs the load, a symlink or device is read as it comes, and an absolute
 * name is glued to the include directory ("DIR//etc/x.conf") so it never works; the
 * include hook that could change that (config_set_include_func) only exists from 1.7.
 * So we expand @include ourselves, exactly where libconfig's scanner would (a line
 * starting with optional blanks, "@include", blanks and a quoted name, outside
 * comments and strings), reading every file with sh_regfile_read (non-blocking open,
 * a regular file by fstat, bounded size), and hand libconfig one string. The
 * settings then get the file and line they came from (correct after an include,
 * which libconfig 1.5 itself miscounts), so FILE:LINE errors are unchanged.
 *
 * Names: a relative @include is relative to the directory of the main file, at any
 * depth (libconfig's include_dir rule); an absolute one is used as it is. Includes
 * nest at most SH_CONF_MAX_DEPTH deep, and all files together hold at most
 * SH_CONF_MAX_BYTES.
 */
#ifndef SH_CONFIG_READ_H
#define SH_CONFIG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#define SH_CONF_MAX_DEPTH 10                  /* as libconfig's MAX_INCLUDE_DEPTH */
#define SH_CONF_MAX_BYTES (64u * 1024 * 1024) /* the main file and its includes together */

/* Parse PATH into CF (config_init'ed by the caller, who config_destroy()s it in every
 * case). false with "FILE:LINE: what" or "PATH: why" in ERR. */
bool sh_conf_read_file(config_t *cf, const char *path, char *err, size_t errlen);

#endif
