/*
 * Test objective: frames of varying length cross a pipe between two
 * processes with no loss, reordering or corruption (10 M frames; set
 * UNETMAP_TEST_FRAMES to change).  Both sides block in poll().
 *
 * Operations: the receiver opens NAME}1, the sender NAME{1 (in that
 * order or the other: the pair exists from the first open).  Every frame
 * carries its sequence number, its length derived from it, and a pattern
 * at both ends of the payload; the receiver checks all three.
 */
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

static uint16_t frame_len(uint64_t seq)
{
	return (uint16_t)(42 + (seq * 7919) % (2048 - 42 + 1));
}

static uint8_t pat(uint64_t seq, unsigned i)
{
	return (uint8_t)(seq * 131 + i * 7);
}

static void fill(char *buf, uint64_t seq, uint16_t len)
{
	unsigned i;

	memcpy(buf, &seq, sizeof(seq));
	memcpy(buf + 8, &len, sizeof(len));
	for (i = 10; i < 42; i++)
		buf[i] = (char)pat(seq, i);
	for (i = len - 8u; i < len; i++)
		buf[i] = (char)pat(seq, i);
}

static int check(const char *buf, uint16_t len, uint64_t seq)
{
	uint64_t s;
	uint16_t l;
	unsigned i;

	memcpy(&s, buf, sizeof(s));
	memcpy(&l, buf + 8, sizeof(l));
	if (s != seq) {
		fprintf(stderr, "frame %llu: sequence %llu (loss or reorder)\n",
			(unsigned long long)seq, (unsigned long long)s);
		return -1;
	}
	if (len != frame_len(seq) || l != len) {
		fprintf(stderr, "frame %llu: length %u, header %u, expected %u\n",
			(unsigned long long)seq, len, l, frame_len(seq));
		return -1;
	}
	for (i = 10; i < 42; i++)
		if ((uint8_t)buf[i] != pat(seq, i))
			goto bad;
	for (i = len - 8u; i < len; i++)
		if ((uint8_t)buf[i] != pat(seq, i))
			goto bad;
	return 0;
bad:
	fprintf(stderr, "frame %llu: payload corrupted at byte %u\n", (unsigned long long)seq, i);
	return -1;
}

static int receiver(const char *name, uint64_t frames)
{
	struct nmport_d *d = nmport_open(name);
	struct pollfd pfd;
	uint64_t seq = 0;

	REQUIRE(d, "open %s", name);
	pfd.fd = d->fd;
	pfd.events = POLLIN;
	while (seq < frames) {
		struct netmap_ring *r = NETMAP_RXRING(d->nifp, 0);
		int n = poll(&pfd, 1, 5000);

		if (n <= 0) {
			fprintf(stderr, "receiver: poll %d (revents %x) after %llu frames\n", n,
				pfd.revents, (unsigned long long)seq);
			return 1;
		}
		while (!nm_ring_empty(r) && seq < frames) {
			struct netmap_slot *s = &r->slot[r->head];

			if (check(NETMAP_BUF(r, s->buf_idx), s->len, seq))
				return 1;
			seq++;
			r->head = r->cur = nm_ring_next(r, r->head);
		}
	}
	ioctl(d->fd, NIOCRXSYNC, NULL);
	nmport_close(d);
	return 0;
}

int main(void)
{
	uint64_t frames = (uint64_t)t_env_long("UNETMAP_TEST_FRAMES", 10000000), seq = 0;
	char tx_name[64], rx_name[64];
	struct nmport_d *d;
	struct pollfd pfd;
	double t0, t1;
	pid_t pid;
	int st;

	t_pipe_name(tx_name, sizeof(tx_name), "xfer", '{', 1);
	t_pipe_name(rx_name, sizeof(rx_name), "xfer", '}', 1);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0)
		_exit(receiver(rx_name, frames));

	d = nmport_open(tx_name);
	REQUIRE(d, "open %s", tx_name);
	pfd.fd = d->fd;
	pfd.events = POLLOUT;
	t0 = t_now();
	while (seq < frames) {
		struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);
		int n = poll(&pfd, 1, 5000);

		if (n <= 0 || (pfd.revents & POLLERR)) {
			fprintf(stderr, "sender: poll %d (revents %x) after %llu frames\n", n,
				pfd.revents, (unsigned long long)seq);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		while (nm_ring_space(r) && seq < frames) {
			struct netmap_slot *s = &r->slot[r->head];

			s->len = frame_len(seq);
			fill(NETMAP_BUF(r, s->buf_idx), seq, s->len);
			seq++;
			r->head = r->cur = nm_ring_next(r, r->head);
		}
	}
	ioctl(d->fd, NIOCTXSYNC, NULL);
	REQUIRE(waitpid(pid, &st, 0) == pid, "waitpid");
	t1 = t_now();
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "receiver status %#x", st);
	nmport_close(d);
	printf("%llu frames of 42..2048 bytes in %.2f s: %.2f Mpps\n", (unsigned long long)frames,
	       t1 - t0, frames / (t1 - t0) / 1e6);
	return t_done("10_pipe_transfer");
}
