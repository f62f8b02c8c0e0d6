/*
 * test-unix-socket.c: the listening unix sockets of monitor/ctl/
 * unix_socket.c - mode 0600 whatever the umask, a stale socket replaced,
 * a live one refused, and anything else at the path (file, directory,
 * symlink) refused and left in place - and the private runtime directory
 * check.  In a temporary directory; no KVM.  Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/ctl/unix_socket.h"
#include "tests/tap.h"

static char tmp[64]; /* the test's directory */

#define PATHLEN 128
#define AT(var, name)      \
	char var[PATHLEN]; \
	snprintf(var, sizeof(var), "%s/%s", tmp, name)

static void test_listen(void)
{
	char err[512];
	struct stat st;
	int fd, fd2;
	AT(p, "s.sock");

	umask(0);
	fd = unix_socket_listen(p, SOCK_SEQPACKET, 4, err, sizeof(err));
	ok(fd >= 0, "listen on a new path");
	ok(lstat(p, &st) == 0 && S_ISSOCK(st.st_mode), "a socket is there");
	is_int(st.st_mode & 0777, 0600, "mode 0600 with umask 0");
	fd2 = unix_socket_listen(p, SOCK_SEQPACKET, 4, err, sizeof(err));
	is_int(fd2, -EADDRINUSE, "a live socket: -EADDRINUSE");
	ok(strstr(err, "in use by a running process") && strstr(err, p),
	   "the message names the path: %s", err);
	fd2 = unix_socket_listen(p, SOCK_STREAM, 4, err, sizeof(err));
	is_int(fd2, -EADDRINUSE, "live with another socket type too");
	close(fd);
	fd = unix_socket_listen(p, SOCK_SEQPACKET, 4, err, sizeof(err));
	ok(fd >= 0, "a stale socket (its process gone) is replaced");
	close(fd);
	unlink(p);
	umask(022);
}

static void test_not_socket(void)
{
	char err[512], buf[8] = { 0 };
	struct stat st;
	int fd;
	AT(f, "file");
	AT(d, "dir");
	AT(l, "link");
	AT(dl, "dangling");
	AT(nowhere, "nowhere");

	fd = open(f, O_CREAT | O_WRONLY, 0644);
	ok(fd >= 0 && write(fd, "keep", 4) == 4, "a regular file");
	close(fd);
	is_int(unix_socket_listen(f, SOCK_STREAM, 1, err, sizeof(err)), -EEXIST,
	       "a regular file at the path: -EEXIST");
	ok(strstr(err, "regular file") && strstr(err, "not replacing"),
	   "the message says what is there: %s", err);
	fd = open(f, O_RDONLY);
	ok(fd >= 0 && read(fd, buf, 4) == 4 && !strcmp(buf, "keep"),
	   "the file is untouched");
	close(fd);
	mkdir(d, 0755);
	is_int(unix_socket_listen(d, SOCK_STREAM, 1, err, sizeof(err)), -EEXIST,
	       "a directory: -EEXIST");
	ok(lstat(d, &st) == 0 && S_ISDIR(st.st_mode), "it is still there");
	ok(symlink(f, l) == 0, "a symlink to the file");
	is_int(unix_socket_listen(l, SOCK_STREAM, 1, err, sizeof(err)), -EEXIST,
	       "a symlink: -EEXIST");
	ok(lstat(l, &st) == 0 && S_ISLNK(st.st_mode) && access(f, F_OK) == 0,
	   "the link and its target are still there");
	ok(symlink(nowhere, dl) == 0, "a dangling symlink");
	is_int(unix_socket_listen(dl, SOCK_STREAM, 1, err, sizeof(err)),
	       -EEXIST, "a dangling symlink: -EEXIST, never followed");
	ok(access(nowhere, F_OK) < 0, "nothing was created behind it");
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = 0;
		is_int(unix_socket_listen(longp, SOCK_STREAM, 1, err,
					  sizeof(err)),
		       -ENAMETOOLONG, "a path too long: -ENAMETOOLONG");
	}
}

static void test_dir(void)
{
	char err[512];
	struct stat st;
	AT(d, "run");
	AT(l, "runlink");
	AT(f, "file");

	is_int(unix_socket_private_dir(d, err, sizeof(err)), 0,
	       "a missing directory is created");
	ok(stat(d, &st) == 0 && S_ISDIR(st.st_mode) &&
		   (st.st_mode & 0777) == 0700,
	   "mode 0700");
	is_int(unix_socket_private_dir(d, err, sizeof(err)), 0,
	       "and accepted as it is");
	chmod(d, 0755);
	is_int(unix_socket_private_dir(d, err, sizeof(err)), -EPERM,
	       "open to others: refused");
	ok(strstr(err, "open to others") && strstr(err, "0755"),
	   "the message says why: %s", err);
	chmod(d, 0700);
	ok(symlink(d, l) == 0, "a symlink to the directory");
	ok(unix_socket_private_dir(l, err, sizeof(err)) < 0 &&
		   strstr(err, "not a directory"),
	   "is refused: %s", err);
	ok(unix_socket_private_dir(f, err, sizeof(err)) < 0,
	   "a file is refused: %s", err);
	if (geteuid() != 0) {
		tap_skip("not root: cannot give a directory to another user");
		return;
	}
	ok(chown(d, 65534, 65534) == 0, "a directory of uid 65534");
	is_int(unix_socket_private_dir(d, err, sizeof(err)), -EPERM,
	       "another user's: refused");
	ok(strstr(err, "belongs to uid 65534"), "the message says whose: %s",
	   err);
}

int main(void)
{
	char cmd[128];

	snprintf(tmp, sizeof(tmp), "/tmp/test-unix-socket.XXXXXX");
	if (!mkdtemp(tmp))
		tap_bail("mkdtemp: %s", strerror(errno));
	test_listen();
	test_not_socket();
	test_dir();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmp);
	return tap_done();
}
