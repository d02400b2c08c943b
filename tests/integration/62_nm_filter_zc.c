/*
 * Test objective: nm-filter moves frames by swapping buffers when its two
 * ports share a memory region, and copies them otherwise (-c, or ports in
 * different regions); either way every passing frame arrives intact and
 * in order, and no dropped frame arrives.
 *
 * Operations: for each case, this process holds the outer ends of two
 * pipes (sender on EXT's peer, receiver on INT's peer) and runs
 * nm-filter -i EXT -i INT [-c] 'drop proto udp dport 1234' between them.
 * The sender writes 20000 UDP frames (every 4th to port 1234), each
 * carrying its sequence number, the index of the buffer it was written
 * in, a length-dependent size and a byte pattern.  The receiver checks
 * sequence, length and pattern of the 15000 frames that must pass, and
 * buffer identity:
 *   zero copy (pipes of one name):   received buf_idx == the sender's
 *   -c, same region:                 never equal (a copy lands elsewhere)
 *   different names (two regions):   nm-filter says "zerocopy disabled"
 * and nm-filter's final counters say 20000 received, 15000 forwarded,
 * 5000 dropped.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

#define FRAMES	20000u
#define PASSING	(FRAMES - FRAMES / 4)

static const char *build;

static unsigned frame_len(uint32_t seq)
{
	return 60 + seq % 200;
}

static int dropped(uint32_t seq)
{
	return seq % 4 == 0;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void build_frame(uint8_t *b, uint32_t seq, uint32_t buf_idx)
{
	unsigned len = frame_len(seq), i;

	memset(b, 0xff, 6);				/* dst MAC */
	memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);	/* src MAC */
	put16(b + 12, 0x0800);
	b[14] = 0x45;
	b[15] = 0;
	put16(b + 16, len - 14);
	memset(b + 18, 0, 4);
	b[22] = 64;
	b[23] = 17;					/* UDP */
	put16(b + 24, 0);
	memcpy(b + 26, "\x0a\x00\x00\x01\x0a\x01\x00\x01", 8);
	put16(b + 34, 1000);
	put16(b + 36, dropped(seq) ? 1234 : 5678);
	put16(b + 38, len - 34);
	put16(b + 40, 0);
	memcpy(b + 42, &seq, 4);
	memcpy(b + 46, &buf_idx, 4);
	for (i = 50; i < len; i++)
		b[i] = (uint8_t)(seq * 7 + i);
}

/* Run one case; returns the number of failed checks. */
static int run_case(const char *tag, int copy_flag, int same_region)
{
	char a[48], b[64], ext[96], in[96], snd[96], rcv[96], outf[128], nmf[512];
	struct nmport_d *s, *r;
	uint32_t seq = 0, want = 0, got = 0, same = 0, bad = 0;
	int before = t_failures, idle = 0, st;
	pid_t pid;

	snprintf(a, sizeof(a), "nfvz%d%s", (int)getpid(), tag);
	snprintf(b, sizeof(b), "%s%s", a, same_region ? "" : "x");
	snprintf(ext, sizeof(ext), "netmap:%s}1", a);
	snprintf(snd, sizeof(snd), "netmap:%s{1", a);
	snprintf(in, sizeof(in), "netmap:%s{2", b);
	snprintf(rcv, sizeof(rcv), "netmap:%s}2", b);
	snprintf(outf, sizeof(outf), "/tmp/unetmap-62-%d-%s.out", (int)getpid(), tag);
	snprintf(nmf, sizeof(nmf), "%s/nm-filter", build);

	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		int fd = open(outf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (copy_flag)
			execl(nmf, "nm-filter", "-i", ext, "-i", in, "-c", "drop", "proto", "udp",
			      "dport", "1234", (char *)NULL);
		else
			execl(nmf, "nm-filter", "-i", ext, "-i", in, "drop", "proto", "udp",
			      "dport", "1234", (char *)NULL);
		_exit(127);
	}
	s = nmport_open(snd);
	r = nmport_open(rcv);
	REQUIRE(s && r, "open %s and %s", snd, rcv);

	while (got < PASSING && idle < 10) {
		struct pollfd p[2] = { { .fd = s->fd, .events = seq < FRAMES ? POLLOUT : 0 },
				       { .fd = r->fd, .events = POLLIN } };
		struct netmap_ring *tx = NETMAP_TXRING(s->nifp, 0);
		struct netmap_ring *rx = NETMAP_RXRING(r->nifp, 0);

		if (poll(p, 2, 1000) <= 0) {
			idle++;
			continue;
		}
		idle = 0;
		while (seq < FRAMES && nm_ring_space(tx)) {
			struct netmap_slot *sl = &tx->slot[tx->head];

			build_frame((uint8_t *)NETMAP_BUF(tx, sl->buf_idx), seq, sl->buf_idx);
			sl->len = (uint16_t)frame_len(seq);
			seq++;
			tx->head = tx->cur = nm_ring_next(tx, tx->head);
		}
		ioctl(s->fd, NIOCTXSYNC, NULL);
		while (!nm_ring_empty(rx)) {
			struct netmap_slot *sl = &rx->slot[rx->head];
			const uint8_t *f = (const uint8_t *)NETMAP_BUF(rx, sl->buf_idx);
			uint32_t fs, fb;
			unsigned i;
			int ok = 1;

			while (dropped(want))
				want++;
			memcpy(&fs, f + 42, 4);
			memcpy(&fb, f + 46, 4);
			if (fs != want || sl->len != frame_len(want)) {
				ok = 0;
			} else {
				for (i = 50; i < sl->len; i++)
					if (f[i] != (uint8_t)(want * 7 + i))
						ok = 0;
			}
			if (!ok && bad++ < 5)
				fprintf(stderr, "%s: frame %u: got seq %u len %u\n", tag, want, fs,
					sl->len);
			if (fb == sl->buf_idx)
				same++;
			want++;
			got++;
			rx->head = rx->cur = nm_ring_next(rx, rx->head);
		}
	}
	CHECK_EQ(got, PASSING);
	CHECK_EQ(bad, 0);
	if (same_region && !copy_flag)
		CHECK(same == got, "%s: zero copy: %u of %u frames in the sender's buffer", tag,
		      same, got);
	else if (same_region)
		CHECK(same == 0, "%s: -c: %u of %u frames in the sender's buffer", tag, same, got);
	kill(pid, SIGTERM);
	REQUIRE(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: nm-filter status %d", tag, st);
	{
		char buf[4096], *want_zc = same_region && !copy_flag ? "zerocopy enabled" :
					   "zerocopy disabled";
		FILE *fo = fopen(outf, "re");
		size_t n = fo ? fread(buf, 1, sizeof(buf) - 1, fo) : 0;

		buf[n] = '\0';
		if (fo)
			fclose(fo);
		CHECK(strstr(buf, want_zc), "%s: nm-filter should say %s:\n%s", tag, want_zc, buf);
		CHECK(strstr(buf, "ext->int: 20000 received 15000 forwarded 5000 dropped 0 bad"),
		      "%s: counters:\n%s", tag, buf);
	}
	unlink(outf);
	nmport_close(s);
	nmport_close(r);
	printf("%s: %u frames passed, %u in the sender's buffer\n", tag, got, same);
	return t_failures - before;
}

int main(void)
{
	static char path[512];

	build = getenv("BUILD");
	if (!build)
		build = "build";
	snprintf(path, sizeof(path), "%s/nm-filter", build);
	if (access(path, X_OK) != 0) {
		printf("skipped: %s is not built\n", path);
		return 77;
	}
	run_case("zc", 0, 1);
	run_case("copy", 1, 1);
	run_case("tworegions", 0, 0);
	return t_done("62_nm_filter_zc");
}
