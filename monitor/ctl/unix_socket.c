/*
 * unix_socket.c: listening unix sockets that are safe to create in a
 * shared place (see unix_socket.h).
 *
 * Threads: no state; callable from any thread.  umask is left alone (it
 * is process-wide): the mode is set on the socket itself before bind(),
 * which Linux takes as the new inode's mode (less the umask, so never
 * more than 0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "monitor/ctl/unix_socket.h"

static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISFIFO(m))
		return "a fifo";
	return "not a socket";
}

/*
 * Whether a process listens on the socket at sun: 1 yes, 0 no (a stale
 * socket), -errno when it cannot be told.
 */
static int socket_live(const struct sockaddr_un *sun, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0)
		r = 1;
	else if (errno == EAGAIN || errno == EPROTOTYPE || errno == EINPROGRESS)
		r = 1; /* a full backlog, or a listener of another type */
	else if (errno != ECONNREFUSED)
		r = -errno;
	close(fd);
	return r;
}

int unix_socket_listen(const char *path, int type, int backlog, char *err,
		       size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
			 "'%s': a socket path has at most %zu bytes", path,
			 sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
				 "'%s' exists and is %s, not a socket; not "
				 "replacing it",
				 path, file_kind(st.st_mode));
			return -EEXIST;
		}
		r = socket_live(&sun, type);
		if (r > 0) {
			snprintf(err, errlen,
				 "'%s' is in use by a running process", path);
			return -EADDRINUSE;
		}
		if (r < 0) {
			snprintf(err, errlen,
				 "cannot tell whether '%s' is in use: %s", path,
				 strerror(-r));
			return r;
		}
		/* Left by a process that is gone. */
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			snprintf(err, errlen,
				 "cannot remove the stale socket '%s': %s",
				 path, strerror(errno));
			return r;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "'%s': %s", path, strerror(errno));
		return r;
	}

	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return r;
	}
	if (fchmod(fd, 0600) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create '%s': %s", path,
			 strerror(errno));
		close(fd);
		return r;
	}
	/* A kernel that ignored the mode given before bind must not serve. */
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 0177)) {
		snprintf(err, errlen,
			 "'%s' was created with mode %04o, not 0600; not "
			 "serving it",
			 path, (unsigned)(st.st_mode & 0777));
		unlink(path);
		close(fd);
		return -EPERM;
	}
	if (listen(fd, backlog) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on '%s': %s", path,
			 strerror(errno));
		unlink(path);
		close(fd);
		return r;
	}
	return fd;
}

int unix_socket_private_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "cannot create the directory '%s': %s",
			 dir, strerror(errno));
		return r;
	}
	/* Look at what is there through an fd: no symlink is followed. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (errno == ENOTDIR || errno == ELOOP)
			snprintf(err, errlen,
				 "'%s' is not a directory (a symbolic link or "
				 "a file); remove it",
				 dir);
		else
			snprintf(err, errlen, "'%s': %s", dir, strerror(errno));
		return r;
	}
	r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "'%s': %s", dir, strerror(-r));
		return r;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "'%s' belongs to uid %u, not to this user (uid %u); "
			 "refusing to serve sockets from it",
			 dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "'%s' is open to others (mode %04o); refusing to "
			 "serve sockets from it until it is 0700",
			 dir, (unsigned)(st.st_mode & 0777));
		return -EPERM;
	}
	return 0;
}
