/*
 * nmport_echo - send numbered frames over netmap ports and check them.
 *
 * Written the way programs using libnetmap's nmport API are written
 * (nmport_open, poll, NETMAP_TXRING/NETMAP_RXRING, nm_ring_space,
 * NS_MOREFRAG for frames longer than a buffer).
 *
 *	nmport_echo -s PORT [-n N] [-l MIN-MAX]		sender
 *	nmport_echo -r PORT [-n N] [-l MIN-MAX] [-w SEC]	receiver
 *	nmport_echo [-n N] [-l MIN-MAX] [-w SEC] TXPORT RXPORT	both
 *
 *	-n N		frames to send / expect (default 10000)
 *	-l MIN-MAX	frame lengths, varying with the sequence number
 *			(default 60-1514; longer than a buffer = fragments)
 *	-w SEC		receiver: give up after SEC seconds without a frame
 *			(default 10)
 *
 * Frame k is an Ethernet frame (ethertype 0x88b5) carrying k and its own
 * length, followed by a pattern derived from k.  The receiver checks that
 * frames arrive in order, none missing, with the right length and
 * contents.  The sender waits, before closing, until the receiving side
 * has taken every frame from its rings.
 *
 * Output: one summary line.  Exit status 0 if all N frames were sent
 * (sender) or received intact (receiver), 1 otherwise, 2 on usage errors.
 *
 * Part of unetmap's compatibility tests: it is built against the
 * installed headers with nothing but `pkg-config --cflags --libs
 * libnetmap`.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <libnetmap.h>

#define MAX_FRAME	16384
#define HDR_LEN		20	/* 14 Ethernet + 4 seq + 2 len */

static unsigned int min_len = 60, max_len = 1514;

static unsigned int
frame_len(uint32_t seq)
{
	uint32_t h = seq * 2654435761u;

	return min_len + (h >> 8) % (max_len - min_len + 1);
}

static void
frame_build(unsigned char *f, uint32_t seq, unsigned int len)
{
	unsigned int i;

	memset(f, 0xff, 6);				/* broadcast */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = (unsigned char)(seq >> 24);
	f[15] = (unsigned char)(seq >> 16);
	f[16] = (unsigned char)(seq >> 8);
	f[17] = (unsigned char)seq;
	f[18] = (unsigned char)(len >> 8);
	f[19] = (unsigned char)len;
	for (i = HDR_LEN; i < len; i++)
		f[i] = (unsigned char)(seq * 7u + i);
}

/* 0 if frame f of length len is frame `seq`, else a reason */
static const char *
frame_check(const unsigned char *f, unsigned int len, uint32_t seq)
{
	unsigned char want[MAX_FRAME];

	if (len != frame_len(seq))
		return "wrong length";
	frame_build(want, seq, len);
	if (memcmp(f + 14, want + 14, 4) != 0)
		return "wrong sequence number (lost or reordered)";
	if (memcmp(f, want, len) != 0)
		return "corrupted contents";
	return NULL;
}

static double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* ---- sending ---- */

struct sender {
	struct nmport_d *d;
	uint32_t next, total;
};

/* Put as many whole frames as fit into the TX rings. */
static void
send_some(struct sender *s)
{
	unsigned char frame[MAX_FRAME];
	unsigned int ri;

	for (ri = s->d->first_tx_ring; ri <= s->d->last_tx_ring &&
	    s->next < s->total; ri++) {
		struct netmap_ring *ring = NETMAP_TXRING(s->d->nifp, ri);

		while (s->next < s->total) {
			unsigned int len = frame_len(s->next), off = 0;
			unsigned int bsz = ring->nr_buf_size;
			unsigned int need = (len + bsz - 1) / bsz;
			uint32_t i = ring->head;

			if (nm_ring_space(ring) < need)
				break;
			frame_build(frame, s->next, len);
			while (off < len) {
				struct netmap_slot *slot = &ring->slot[i];
				unsigned int chunk = len - off > bsz ? bsz :
				    len - off;

				memcpy(NETMAP_BUF(ring, slot->buf_idx),
				    frame + off, chunk);
				slot->len = (uint16_t)chunk;
				off += chunk;
				slot->flags = off < len ? NS_MOREFRAG : 0;
				i = nm_ring_next(ring, i);
			}
			ring->head = ring->cur = i;
			s->next++;
		}
	}
}

static int
tx_pending(struct nmport_d *d)
{
	unsigned int ri;

	for (ri = d->first_tx_ring; ri <= d->last_tx_ring; ri++)
		if (nm_tx_pending(NETMAP_TXRING(d->nifp, ri)))
			return 1;
	return 0;
}

/* ---- receiving ---- */

struct receiver {
	struct nmport_d *d;
	uint32_t expect, total;
	unsigned char frame[MAX_FRAME];
	unsigned int flen;		/* bytes of a frame in progress */
	const char *error;
	uint32_t bad_seq;
};

static void
receive_some(struct receiver *r)
{
	unsigned int ri;

	for (ri = r->d->first_rx_ring; ri <= r->d->last_rx_ring; ri++) {
		struct netmap_ring *ring = NETMAP_RXRING(r->d->nifp, ri);
		uint32_t i = ring->head;

		while (i != ring->tail) {
			struct netmap_slot *slot = &ring->slot[i];

			if (r->error == NULL) {
				if (r->flen + slot->len > sizeof(r->frame)) {
					r->error = "frame too long";
					r->bad_seq = r->expect;
				} else {
					memcpy(r->frame + r->flen,
					    NETMAP_BUF(ring, slot->buf_idx),
					    slot->len);
					r->flen += slot->len;
				}
			}
			if (!(slot->flags & NS_MOREFRAG)) {
				if (r->error == NULL) {
					r->error = frame_check(r->frame,
					    r->flen, r->expect);
					r->bad_seq = r->expect;
				}
				r->flen = 0;
				r->expect++;
			}
			i = nm_ring_next(ring, i);
		}
		ring->head = ring->cur = i;
	}
}

static struct nmport_d *
open_port(const char *spec)
{
	struct nmport_d *d = nmport_open(spec);

	if (d == NULL)
		fprintf(stderr, "nmport_open(%s) failed: %s\n", spec,
		    strerror(errno));
	return d;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
	    "usage: %s -s PORT [-n N] [-l MIN-MAX]\n"
	    "       %s -r PORT [-n N] [-l MIN-MAX] [-w SEC]\n"
	    "       %s [-n N] [-l MIN-MAX] [-w SEC] TXPORT RXPORT\n",
	    prog, prog, prog);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *txspec = NULL, *rxspec = NULL;
	struct sender s;
	struct receiver *r;
	double wait_s = 10, last;
	uint32_t n = 10000;
	int ch, ok;

	while ((ch = getopt(argc, argv, "s:r:n:l:w:")) != -1) {
		switch (ch) {
		case 's':
			txspec = optarg;
			break;
		case 'r':
			rxspec = optarg;
			break;
		case 'n':
			n = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			if (sscanf(optarg, "%u-%u", &min_len, &max_len) != 2 ||
			    min_len < HDR_LEN || max_len < min_len ||
			    max_len > MAX_FRAME)
				usage(argv[0]);
			break;
		case 'w':
			wait_s = atof(optarg);
			break;
		default:
			usage(argv[0]);
		}
	}
	if (txspec == NULL && rxspec == NULL && argc - optind == 2) {
		txspec = argv[optind];
		rxspec = argv[optind + 1];
	} else if ((txspec == NULL && rxspec == NULL) || optind != argc) {
		usage(argv[0]);
	}

	memset(&s, 0, sizeof(s));
	s.total = n;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 1;
	r->total = n;
	if (txspec != NULL && (s.d = open_port(txspec)) == NULL)
		return 1;
	if (rxspec != NULL && (r->d = open_port(rxspec)) == NULL) {
		if (s.d != NULL)
			nmport_close(s.d);
		return 1;
	}

	last = now();
	for (;;) {
		struct pollfd pfd[2];
		int nfds = 0, rx_i = -1;
		int sending = s.d != NULL && (s.next < s.total || tx_pending(s.d));
		int receiving = r->d != NULL && r->expect < r->total;
		uint32_t before = s.next + r->expect;

		if (!sending && !receiving)
			break;
		if (sending && s.next < s.total) {
			send_some(&s);
			pfd[nfds].fd = s.d->fd;
			pfd[nfds].events = POLLOUT;	/* pushes, and waits
							 * for room */
			pfd[nfds++].revents = 0;
		} else if (sending) {
			/* all queued: wait for the peer to take them, as
			 * pkt-gen does at the end (when the peer is our own
			 * receiver, it returns the slots it has read) */
			if (r->d != NULL)
				ioctl(r->d->fd, NIOCRXSYNC, NULL);
			ioctl(s.d->fd, NIOCTXSYNC, NULL);
			if (!tx_pending(s.d))
				last = now();
		}
		if (receiving) {
			rx_i = nfds;
			pfd[nfds].fd = r->d->fd;
			pfd[nfds].events = POLLIN;
			pfd[nfds++].revents = 0;
		}
		if (nfds == 0) {
			usleep(1000);
		} else if (poll(pfd, (nfds_t)nfds, 100) < 0 && errno != EINTR) {
			perror("poll");
			break;
		}
		if (rx_i >= 0)
			receive_some(r);
		if (s.next + r->expect != before)
			last = now();
		if (rx_i >= 0 && (pfd[rx_i].revents & POLLHUP) &&
		    nm_ring_empty(NETMAP_RXRING(r->d->nifp,
		    r->d->first_rx_ring)) && s.d == NULL) {
			/* the sender went away: one last look, then stop */
			receive_some(r);
			if (r->expect < r->total && now() - last > 1)
				break;
		}
		if (now() - last > wait_s)
			break;
	}

	/* give back the slots read last */
	if (r->d != NULL)
		ioctl(r->d->fd, NIOCRXSYNC, NULL);
	ok = 1;
	if (s.d != NULL) {
		printf("sent %u of %u frames%s\n", s.next, s.total,
		    tx_pending(s.d) ? " (not all taken by the peer)" : "");
		ok = s.next == s.total && !tx_pending(s.d);
	}
	if (r->d != NULL) {
		if (r->error != NULL)
			printf("received %u of %u frames: frame %u: %s\n",
			    r->expect, r->total, r->bad_seq, r->error);
		else
			printf("received %u of %u frames, all intact\n",
			    r->expect, r->total);
		ok = ok && r->error == NULL && r->expect == r->total;
	}
	if (s.d != NULL)
		nmport_close(s.d);
	if (r->d != NULL)
		nmport_close(r->d);
	free(r);
	return ok ? 0 : 1;
}
