/* privs.h - drop root for good, in one place (after Postfix util/chroot_uid.c).
 *
 * Call it after the listening sockets are bound and the secrets are read, and
 * before serving. Reloads after the drop read the config and secret files as
 * the new user: make them readable by its group (root:smarthostd, 0640).
 */
#ifndef SH_PRIVS_H
#define SH_PRIVS_H

#define SH_DEFAULT_USER "smarthostd" /* the packaged system user */

/* Become USER (name). Not root: nothing to do when USER is NULL or is already
 * us, fatal otherwise. Root with USER NULL: a warning and we stay root (only an
 * explicit -u switches users). Order: initgroups, setgid, chroot(CHROOT_DIR)
 * + chdir("/") when CHROOT_DIR is not NULL, setuid; then a check that root
 * cannot be regained. Every failure is fatal. */
void sh_privs_drop(const char *user, const char *chroot_dir);

/* Processes that hold passwords or the vault key in memory: no core dump of
 * them, and no ptrace by other processes of the same uid. */
void sh_privs_no_core_dumps(void);

#endif
