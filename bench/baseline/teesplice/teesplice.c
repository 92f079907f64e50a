/* teesplice: the plain C baseline of issue 15 goal 4 for a tee to pipe
 * readers and a file. It copies its stdin (a pipe) to its stdout and to
 * each descriptor named on the command line (pipes), and into FILE, with
 * tee(2) and splice(2) only: no byte passes through user memory.
 *
 *   teesplice FILE [FD...]  < pipe  > pipe
 *
 * tee(2) duplicates the first bytes of a pipe but cannot start at an
 * offset, so teeing straight into outputs with different free room would
 * send them different amounts. Each round therefore tees into a private,
 * empty staging pipe per output (as large as stdin's pipe, so the copy is
 * always whole), splices the round from stdin into FILE (which consumes
 * it), then splices each staging pipe into its output, blocking. One
 * thread, blocking calls, every pipe grown to /proc/sys/fs/pipe-max-size
 * (as tubo grows the pipes around its tee): what a C programmer would
 * write, nothing clever.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXOUT 64

static void die(const char *what)
{
	fprintf(stderr, "teesplice: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int pipe_max(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	int n = 1 << 20;
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 1 << 20;
		fclose(f);
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: teesplice FILE [FD...] < pipe > pipe\n");
		return 2;
	}
	int file = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (file < 0)
		die(argv[1]);
	int out[MAXOUT], stg[MAXOUT][2], nout = 0;
	out[nout++] = 1;
	for (int i = 2; i < argc && nout < MAXOUT; i++)
		out[nout++] = atoi(argv[i]);

	int size = pipe_max();
	/* A pipe may refuse the size (a user's pipe quota): keep what it has. */
	fcntl(0, F_SETPIPE_SZ, size);
	int insize = fcntl(0, F_GETPIPE_SZ);
	if (insize < 0)
		die("stdin is not a pipe");
	for (int i = 0; i < nout; i++) {
		fcntl(out[i], F_SETPIPE_SZ, size);
		if (pipe2(stg[i], O_CLOEXEC) < 0)
			die("pipe2");
		if (fcntl(stg[i][1], F_SETPIPE_SZ, insize) < insize)
			die("staging pipe smaller than stdin's");
	}

	for (;;) {
		ssize_t n = tee(0, stg[0][1], INT_MAX, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("tee");
		}
		if (n == 0)
			break; /* end of input */
		for (int i = 1; i < nout; i++) {
			ssize_t m = tee(0, stg[i][1], n, 0);
			if (m != n) {
				errno = m < 0 ? errno : EIO;
				die("tee into an empty staging pipe copied less");
			}
		}
		for (ssize_t left = n; left > 0;) {
			ssize_t m = splice(0, NULL, file, NULL, left, SPLICE_F_MOVE);
			if (m <= 0) {
				if (m < 0 && errno == EINTR)
					continue;
				die("splice into FILE");
			}
			left -= m;
		}
		for (int i = 0; i < nout; i++) {
			for (ssize_t left = n; left > 0;) {
				ssize_t m = splice(stg[i][0], NULL, out[i], NULL, left, SPLICE_F_MOVE);
				if (m <= 0) {
					if (m < 0 && errno == EINTR)
						continue;
					die("splice into an output");
				}
				left -= m;
			}
		}
	}
	if (close(file) < 0)
		die("close FILE");
	return 0;
}
