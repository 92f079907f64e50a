/* heapmerge: the plain C baseline of issue 15 goal 3 for an ordered merge
 * of binary records. It merges k files of sorted host-order int32s with a
 * binary min-heap (ties to the lower file index) and writes the merged
 * records to stdout: stdio buffers of 256 KiB on every file, one compare
 * per heap step, nothing clever.
 *
 *   heapmerge FILE...  > out
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct src {
	FILE *f;
	int32_t v;
	int idx;
};

static int less(const struct src *a, const struct src *b)
{
	return a->v < b->v || (a->v == b->v && a->idx < b->idx);
}

static void down(struct src *h, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, m = i;
		if (l < n && less(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && less(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct src t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

int main(int argc, char **argv)
{
	int k = argc - 1, n = 0;
	struct src *h = calloc(k > 0 ? k : 1, sizeof *h);
	static char obuf[256 << 10];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	for (int i = 0; i < k; i++) {
		FILE *f = fopen(argv[i + 1], "rb");
		if (!f) {
			perror(argv[i + 1]);
			return 1;
		}
		setvbuf(f, NULL, _IOFBF, 256 << 10);
		if (fread(&h[n].v, 4, 1, f) == 1) {
			h[n].f = f;
			h[n].idx = i;
			n++;
		}
	}
	for (int i = n / 2 - 1; i >= 0; i--)
		down(h, n, i);
	while (n > 0) {
		fwrite(&h[0].v, 4, 1, stdout);
		if (fread(&h[0].v, 4, 1, h[0].f) != 1)
			h[0] = h[--n];
		down(h, n, 0);
	}
	return fflush(stdout) != 0;
}
