/*
 * sync_packet.c - netmap:IFNAME in emulated mode (AF_PACKET), for when
 * AF_XDP is unavailable: one ring pair on the packet socket netmapd bound
 * to the interface.
 *
 *   txsync  slots [hwcur, head) are handed over; the pending ones
 *           [tail + 1, hwcur) go out with sendmmsg() straight from the
 *           region's buffers (the kernel copies them); what the kernel
 *           took is complete at once, what it refused (queue full) stays
 *           pending for the next sync.
 *   rxsync  frames of the TPACKET_V3 ring's ready blocks are copied into
 *           the free slots; a block goes back to the kernel when all of
 *           its frames are in.  The cursor (block, frame, offset) lives in
 *           the control block (kx[]), shared by every binder.
 *
 * The ring is the kernel's, but another binder of the port may scribble
 * on it: every offset and length is checked against the block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "nic_ring.h"

#define PKT_BATCH   512		/* frames per sendmmsg(): a pkt-gen batch */
#define PKT_MAXFRAG 32		/* slots per frame (NS_MOREFRAG) */
#define ETH_MIN_HDR 14

/* r->priv of a ring of an emulated port */
struct pkt_ring {
	struct unm_nic_sock sock;	/* first: see unm_nic_arm() */
	char *bufs;
	uint32_t bs;
	/* RX: the TPACKET_V3 ring */
	char *map;
	size_t maplen;
	uint32_t blk_size, blk_nr;
	/* TX scratch (used under the ring's sync lock) */
	struct mmsghdr msg[PKT_BATCH];
	struct iovec iov[PKT_BATCH + PKT_MAXFRAG];
	uint32_t slots[PKT_BATCH];	/* slots of each message */
};

static inline uint32_t slot_next(uint32_t i, uint32_t n)
{
	return i + 1 == n ? 0 : i + 1;
}

static bool dev_error(int e)
{
	return e == ENETDOWN || e == ENXIO || e == ENODEV;
}

/*
 * Send the pending slots [first, hwcur).  Returns the new hwtail + 1
 * (the first slot still pending) and sets *err for a failed device.
 */
static uint32_t tx_send(struct unm_ring *r, struct pkt_ring *pr, uint32_t first, uint32_t hwcur,
			int *err)
{
	struct netmap_ring *ring = r->ring;
	uint32_t n = r->n, k = first;

	while (k != hwcur) {
		unsigned nmsg = 0, niov = 0, i;
		uint32_t scan = k;
		int sent;

		/* build up to PKT_BATCH frames of whole NS_MOREFRAG chains */
		while (scan != hwcur && nmsg < PKT_BATCH && niov + PKT_MAXFRAG <=
		       PKT_BATCH + PKT_MAXFRAG) {
			uint32_t start = scan, frags = 0, total = 0;
			struct iovec *iov = &pr->iov[niov];
			bool bad = false, whole = false;

			while (scan != hwcur && frags < PKT_MAXFRAG) {
				struct netmap_slot *s = &ring->slot[scan];
				uint32_t idx = s->buf_idx, len = s->len;
				uint16_t fl = s->flags;

				if (idx < 2 || idx >= r->buf_total || len == 0)
					bad = true;
				if (len > pr->bs)
					len = pr->bs;
				iov[frags].iov_base = pr->bufs + (uint64_t)idx * pr->bs;
				iov[frags].iov_len = bad ? 0 : len;
				total += len;
				frags++;
				s->flags = fl & (uint16_t)~(NS_BUF_CHANGED | NS_REPORT);
				scan = slot_next(scan, n);
				if (!(fl & NS_MOREFRAG)) {
					whole = true;
					break;
				}
			}
			if (!whole && frags < PKT_MAXFRAG) {
				/* the rest of the chain is not handed over yet */
				scan = start;
				break;
			}
			if (!whole)
				bad = true;	/* longer than we send */
			if (bad || total < ETH_MIN_HDR) {
				/* netmap refuses such frames: drop it, complete
				 * its slots */
				if (nmsg == 0) {
					k = scan;
					continue;
				}
				scan = start;
				break;
			}
			memset(&pr->msg[nmsg], 0, sizeof(pr->msg[nmsg]));
			pr->msg[nmsg].msg_hdr.msg_iov = iov;
			pr->msg[nmsg].msg_hdr.msg_iovlen = frags;
			pr->slots[nmsg] = frags;
			niov += frags;
			nmsg++;
		}
		if (nmsg == 0)
			break;
		do {
			sent = sendmmsg(pr->sock.fd, pr->msg, nmsg, MSG_DONTWAIT);
		} while (sent < 0 && errno == EINTR);
		if (sent < 0) {
			if (dev_error(errno)) {
				*err = -errno;
				break;
			}
			if (errno == EAGAIN || errno == ENOBUFS)
				break;		/* full: the next sync retries */
			/* this frame is refused (too long for the MTU, ...):
			 * drop it rather than stall the ring */
			sent = 1;
		}
		for (i = 0; i < (unsigned)sent; i++)
			k = unm_idx_add(k, pr->slots[i], n);
		if ((unsigned)sent < nmsg)
			break;
	}
	return k;
}

static int pkt_txsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	struct pkt_ring *pr = r->priv;
	uint32_t n = r->n, first;
	int err = unm_nic_state_err(r);

	k->hwcur = head;
	first = unm_idx_add(k->hwtail, 1, n);
	if (first != head)
		k->hwtail = unm_idx_prev(tx_send(r, pr, first, head, &err), n);
	return err;
}

/* Copy one frame of the ring into slot s; false if it is to be skipped. */
static bool rx_frame(struct unm_ring *r, struct pkt_ring *pr, const char *blk, uint32_t off,
		     struct netmap_slot *s)
{
	const struct tpacket3_hdr *h = (const void *)(blk + off);
	const struct sockaddr_ll *sll;
	uint32_t mac, snap, status, idx = s->buf_idx, room = pr->bs, len;
	char *dst;

	sll = (const void *)(blk + off + TPACKET_ALIGN(sizeof(*h)));
	if (off + TPACKET3_HDRLEN > pr->blk_size)
		return false;
	mac = off + h->tp_mac;
	snap = h->tp_snaplen;
	status = h->tp_status;
	if (mac > pr->blk_size || snap > pr->blk_size - mac || snap < ETH_MIN_HDR)
		return false;
	if (sll->sll_pkttype == PACKET_OUTGOING)
		return false;	/* our own transmissions (old kernels) */
	if (idx < 2 || idx >= r->buf_total)
		return false;
	dst = pr->bufs + (uint64_t)idx * pr->bs;
	if (status & TP_STATUS_VLAN_VALID) {
		/* the kernel took the tag out; netmap shows the frame as it
		 * was on the wire */
		uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
		uint16_t tci = (uint16_t)h->hv1.tp_vlan_tci;
		uint32_t rest = snap - 12;

		if (room < 16)
			return false;
		memcpy(dst, blk + mac, 12);
		dst[12] = (char)(tpid >> 8);
		dst[13] = (char)tpid;
		dst[14] = (char)(tci >> 8);
		dst[15] = (char)tci;
		if (rest > room - 16)
			rest = room - 16;
		memcpy(dst + 16, blk + mac + 12, rest);
		len = 16 + rest;
	} else {
		len = snap < room ? snap : room;
		memcpy(dst, blk + mac, len);
	}
	s->len = (uint16_t)len;
	s->flags = 0;
	return true;
}

static int pkt_rxsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	struct pkt_ring *pr = r->priv;
	uint32_t n = r->n, hwcur = head, t = k->hwtail, end;
	uint32_t bi = k->kx[0], done = k->kx[1], off = k->kx[2];
	int err = unm_nic_state_err(r);

	/* copies: released slots simply come back */
	k->hwcur = hwcur;
	end = unm_idx_prev(hwcur, n);
	/* the cursor is ours but lives in shared memory: a value that
	 * cannot be ours restarts at the first block */
	if (bi >= pr->blk_nr || off >= pr->blk_size) {
		bi = 0;
		done = 0;
		off = 0;
	}
	while (t != end) {
		struct tpacket_block_desc *bd = (void *)(pr->map + (size_t)bi * pr->blk_size);
		_Atomic uint32_t *status = (_Atomic uint32_t *)(void *)&bd->hdr.bh1.block_status;
		const char *blk = (const char *)bd;
		uint32_t num;

		/* A: pairs with the kernel's release of the block (its frames
		 * are written before it is marked TP_STATUS_USER) */
		if (!(atomic_load_explicit(status, memory_order_acquire) & TP_STATUS_USER))
			break;
		num = bd->hdr.bh1.num_pkts;
		if (done == 0)
			off = bd->hdr.bh1.offset_to_first_pkt;
		while (done < num && t != end) {
			const struct tpacket3_hdr *h = (const void *)(blk + off);
			uint32_t next;

			if (off < sizeof(*bd) || off > pr->blk_size - sizeof(*h)) {
				done = num;	/* a corrupt block: give it back */
				break;
			}
			next = h->tp_next_offset;
			if (rx_frame(r, pr, blk, off, &r->ring->slot[t]))
				t = slot_next(t, n);
			done++;
			if (next == 0 || next > pr->blk_size - off) {
				done = num;
				break;
			}
			off += next;
		}
		if (done < num)
			break;		/* no room: resume here */
		/* R: the block is the kernel's again, after our reads */
		atomic_store_explicit(status, TP_STATUS_KERNEL, memory_order_release);
		bi = bi + 1 == pr->blk_nr ? 0 : bi + 1;
		done = 0;
		off = 0;
	}
	k->kx[0] = bi;
	k->kx[1] = done;
	k->kx[2] = off;
	k->hwtail = t;
	return err;
}

/* ---- bind / unbind ---- */

static void pkt_unbind(struct unm_port *p)
{
	char *map = NULL;
	size_t maplen = 0;
	uint32_t i;
	int d;

	unm_nic_arm(p, false);
	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct pkt_ring *pr = p->ring[d][i].priv;

			if (!pr)
				continue;
			if (pr->map) {
				map = pr->map;
				maplen = pr->maplen;
			}
			free(pr);
			p->ring[d][i].priv = NULL;
		}
	}
	if (map)
		munmap(map, maplen);
}

static int pkt_bind(struct unm_port *p, char *base, const struct unm_bind_info *bi, size_t len,
		    const int *fds, unsigned nfds)
{
	const struct unm_bind_nic *nic = unm_nic_info(bi, len);
	char *map = NULL;
	size_t maplen;
	uint32_t i;
	int err = -EPROTO;

	if (!nic || nic->blk_nr == 0 || nic->blk_nr > 4096 || nic->blk_size < 4096 ||
	    nic->blk_size > (1u << 24) || nic->blk_size % 4096)
		return -EPROTO;
	maplen = (size_t)nic->blk_size * nic->blk_nr;
	for (i = 0; i < bi->nrings; i++) {
		const struct unm_nic_ring *nr = &nic->ring[i];
		struct unm_ring *r = unm_nic_ring_of(p, bi, i);
		struct pkt_ring *pr;

		if (nr->sock_fd < 3 || (unsigned)nr->sock_fd >= nfds) {
			err = -EPROTO;
			goto fail;
		}
		pr = calloc(1, sizeof(*pr));
		if (!pr) {
			err = -ENOMEM;
			goto fail;
		}
		r->priv = pr;
		pr->sock.fd = fds[nr->sock_fd];
		pr->bufs = base + bi->buf_pool_ofs;
		pr->bs = bi->buf_size;
		pr->blk_size = nic->blk_size;
		pr->blk_nr = nic->blk_nr;
		if (bi->ring[i].dir == UNM_DIR_RX) {
			if (!map) {
				map = unm_libc.mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED,
						    pr->sock.fd, 0);
				if (map == MAP_FAILED) {
					map = NULL;
					err = -errno;
					goto fail;
				}
			}
			pr->map = map;
			pr->maplen = maplen;
		}
	}
	return 0;
fail:
	pkt_unbind(p);
	return err;
}

const struct unm_port_ops unm_packet_ops = {
	.name = "af_packet",
	.txsync = pkt_txsync,
	.rxsync = pkt_rxsync,
	.bind = pkt_bind,
	.unbind = pkt_unbind,
	.arm = unm_nic_arm,
};
